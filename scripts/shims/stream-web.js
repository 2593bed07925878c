// Build-time stand-in for `node:stream/web` inside @middy/core, which needs it only for streamed responses
// (never used here). `instanceof` still answers against the real class, loaded only if it is ever asked.
export const ReadableStream = class {
  static [Symbol.hasInstance](value) {
    return value instanceof globalThis.ReadableStream;
  }
};
