import { readFileSync } from 'node:fs';

export type EventName = 'http-post-coupons' | 'http-get-healthz' | 'cloudevent' | 'cloudevents-streaming' | 'timer';

/** A captured trigger event from this folder, parsed fresh each time so a test may change its copy. */
export function loadEvent<T = Record<string, unknown>>(name: EventName): T {
  return JSON.parse(readFileSync(new URL(`./${name}.json`, import.meta.url), 'utf8')) as T;
}

/** The same event as the bytes FC hands the function. */
export const eventBytes = (event: unknown): Buffer =>
  Buffer.from(typeof event === 'string' ? event : JSON.stringify(event));

/** The captured POST /coupons event with another body (and, optionally, headers or base64). */
export function httpPost(body: string | Buffer, init: { headers?: Record<string, string>; base64?: boolean } = {}) {
  const event = loadEvent<Record<string, unknown> & { headers: Record<string, string> }>('http-post-coupons');
  return {
    ...event,
    body: init.base64 ? Buffer.from(body).toString('base64') : body.toString(),
    isBase64Encoded: init.base64 ?? false,
    headers: init.headers ?? { ...event.headers, 'Content-Length': String(Buffer.byteLength(body)) },
  };
}
