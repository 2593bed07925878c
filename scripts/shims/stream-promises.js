// Build-time stand-in for `node:stream/promises` inside @middy/core (streamed responses only): the real
// module is imported on first use instead of at cold start.
export const pipeline = (...args) => import('node:stream/promises').then((m) => m.pipeline(...args));
