/**
 * Thousands of generated and mutated requests and FC events through the real functions (in this process, against
 * a real emulator over HTTP): never a 5xx or a throw, never an upstream call for a refused request, and never a
 * full uid in an error answer or in any log line.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FcContext } from '../../lib/fc.js';
import type { FcHttpResponse } from '../../lib/triggers/http-event.js';
import { startEmulator, type Emulator } from '../../local/emulator/server.js';
import { eventBytes, httpPost, loadEvent } from '../events/load.js';

type Handler = (event: Buffer, context: FcContext) => Promise<unknown>;

let emulator: Emulator;
let http: Handler;
let events: Handler;
let timer: Handler;
const logs: string[] = [];

const KEY = { accessKeyId: 'prop-key', accessKeySecret: 'prop-secret' };
const context = (): FcContext => ({
  requestId: 'prop',
  credentials: KEY,
  function: { name: 'coupon-http', timeout: 30 },
});

beforeAll(async () => {
  emulator = await startEmulator(KEY);
  Object.assign(process.env, { RESELLERTRADE_ENDPOINT: emulator.url, LOG_LEVEL: 'debug', MAX_RECIPIENTS: '5' });
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.startsWith('{"time"')) {
      logs.push(...text.split('\n').filter((l) => l !== ''));
      return true;
    }
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  });
  http = (await import('../../functions/http.js')).handler as Handler;
  events = (await import('../../functions/event.js')).handler as Handler;
  timer = (await import('../../functions/timer.js')).handler as Handler;
});
afterAll(async () => {
  vi.restoreAllMocks();
  await emulator.close();
});

/** Uids long enough that any 8 digits of them in a log line would be a leak. */
const UIDS = ['1918000000883', '9007199254740991', '9123372036854775807', '4000000000000001'];
const leaksUid = (text: string) => UIDS.some((uid) => text.includes(uid));

let counter = 0;
/** Null most of the time: a rarer hostile addition. */
const seldom = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(null), weight: 5 }, { arbitrary: arb, weight: 1 });

/** Valid values most of the time, so the send path is exercised too; hostile ones the rest. */
const mostly = <T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 9 }, { arbitrary: hostile, weight: 1 });

const numberText = mostly(
  fc.oneof(fc.integer({ min: 1, max: 10_000 }).map(String), fc.constantFrom('8.88', '100.0', '1e2', '0.01', '9999.99')),
  fc.oneof(
    fc.integer({ min: -5, max: 20_000 }).map(String),
    fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.stringMatching(/^[0-9]{1,8}$/)).map(([i, f]) => `${i}.${f}`),
    fc.tuple(fc.integer({ min: 1, max: 99 }), fc.integer({ min: -12, max: 4 })).map(([m, e]) => `${m}e${e}`),
    fc.constantFrom('0.30000000000000004', '1e-10', '191800000088300000000', '1e400', '-0', '"5"'),
  ),
);
const idText = mostly(
  fc.oneof(
    fc.constantFrom(...UIDS).map((u) => `"${u}"`),
    fc.constantFrom(...UIDS.slice(0, 2)),
  ),
  fc.oneof(
    fc.stringMatching(/^[0-9]{1,22}$/).map((d) => `"${d}"`),
    fc.constantFrom('"0"', '"000"', '"0001918000000883"', '9223372036854775808', '"12a"', 'null', 'true', '[]', '{}'),
  ),
);
const text = mostly(
  fc.stringMatching(/^[a-z0-9 -]{1,20}$/),
  fc.oneof(
    fc.string({ maxLength: 70 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom('\u0085', '\u2028', '\u2029', '\ud800', '中文', 'a\u0000b', '\udc00x', ''),
  ),
);

/** A flat or envelope request as JSON text with every field drawn from valid and hostile values. */
const requestText = fc
  .record({
    form: fc.constantFrom('flat', 'envelope', 'batch'),
    seller: idText,
    template: idText,
    fromApp: text,
    operator: seldom(text),
    recipients: fc.oneof(
      { arbitrary: fc.array(fc.tuple(idText, numberText), { minLength: 1, maxLength: 3 }), weight: 4 },
      { arbitrary: fc.array(fc.tuple(idText, numberText), { minLength: 0, maxLength: 7 }), weight: 1 },
    ),
    extra: seldom(fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }))),
    drop: seldom(fc.constantFrom('seller', 'template', 'fromApp', 'requestId', 'recipients')),
  })
  .map((r) => {
    const list = `[${r.recipients.map(([uid, amount]) => `{"uid": ${uid}, "amount": ${amount}}`).join(', ')}]`;
    const requestId = JSON.stringify(`prop-${process.pid}-${++counter}`);
    const extra = r.extra ? `, ${JSON.stringify(r.extra[0])}: ${JSON.stringify(r.extra[1])}` : '';
    const field = (name: string, key: string, value: string) => (r.drop === name ? '' : `"${key}": ${value}, `);
    const operator =
      r.operator === null ? '' : `"${r.form === 'flat' ? 'Operator' : 'operator'}": ${JSON.stringify(r.operator)}, `;
    if (r.form === 'flat') {
      return `{${field('seller', 'SellerId', r.seller)}${field('template', 'TemplateId', r.template)}${field('fromApp', 'FromApp', JSON.stringify(r.fromApp))}${field('requestId', 'RequestId', requestId)}${operator}"userAmountModelList": ${r.drop === 'recipients' ? '7' : list}${extra}}`;
    }
    const param = `{${field('seller', 'sellerId', r.seller)}${field('template', 'templateId', r.template)}${operator}"userAmountModelList": ${r.drop === 'recipients' ? '7' : list}${extra}}`;
    const envelope = `{${field('fromApp', 'fromApp', JSON.stringify(r.fromApp))}${field('requestId', 'requestId', requestId)}"param": ${param}}`;
    return r.form === 'batch'
      ? `[${envelope}, ${envelope.replace(requestId, JSON.stringify(`${JSON.parse(requestId) as string}-b`))}]`
      : envelope;
  });

/** Byte-level damage on top: a cut, an invalid UTF-8 byte, a stray character. */
const damaged = fc
  .tuple(requestText, seldom(fc.tuple(fc.constantFrom('cut', 'byte', 'char'), fc.nat())))
  .map(([t, d]) => {
    const bytes = Buffer.from(t, 'utf8');
    if (!d) return bytes;
    const at = d[1] % Math.max(1, bytes.length);
    if (d[0] === 'cut') return bytes.subarray(0, at);
    if (d[0] === 'byte') return Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at)]);
    return Buffer.concat([bytes.subarray(0, at), Buffer.from('"'), bytes.subarray(at)]);
  });

const statuses: number[] = [];

async function check(run: () => Promise<{ status: number; body: string }>): Promise<void> {
  const calls = emulator.stats().calls;
  const logged = logs.length;
  const { status, body } = await run();
  statuses.push(status);
  expect(status).toBeLessThan(500);
  if (status >= 400) {
    expect(emulator.stats().calls).toBe(calls);
    expect(leaksUid(body) ? body : false).toBe(false);
  }
  for (const line of logs.slice(logged)) {
    expect(leaksUid(line) ? line : false).toBe(false);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(8192);
  }
}

const viaHttp = async (event: unknown) => {
  const answer = (await http(eventBytes(event), context())) as FcHttpResponse;
  return { status: answer.statusCode, body: answer.body };
};

/** Event and timer functions throw only for a retry; a refused delivery is answered with its error. */
const viaJson = (handler: Handler) => async (bytes: Buffer) => {
  const out = await handler(bytes, context());
  const parsed = JSON.parse(String(out)) as { Code?: string } | Array<{ Code?: string }>;
  const codes = (Array.isArray(parsed) ? parsed : [parsed]).map((a) => a.Code ?? '');
  const refused = codes.every((c) => /^(Invalid|Forbidden)/.test(c));
  return { status: refused ? 400 : 200, body: String(out) };
};

describe('generated requests through the HTTP function', () => {
  it('never answers 5xx, never sends what it refuses, never quotes a uid', async () => {
    await fc.assert(
      fc.asyncProperty(damaged, async (body) => check(() => viaHttp(httpPost(body, { base64: true })))),
      { numRuns: 2500 },
    );
    // The generator must also reach the send path, or the property says nothing about it.
    const counts = statuses.reduce<Record<number, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
    expect(counts[200] ?? 0, JSON.stringify(counts)).toBeGreaterThan(statuses.length / 5);
  });

  it('refuses every amount with more than two decimals, judged from its text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 999 }),
        fc.stringMatching(/^[0-9]{3,9}$/).filter((f) => !/0$/.test(f)),
        async (i, f) => {
          const body = `{"SellerId": 1, "TemplateId": 2, "RequestId": "dec-${++counter}", "FromApp": "p", "userAmountModelList": [{"uid": 3, "amount": ${i}.${f}}]}`;
          const { status } = await viaHttp(httpPost(body));
          expect(status).toBe(400);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('generated FC events', () => {
  const post = loadEvent('http-post-coupons');
  const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined));
  it('malformed HTTP trigger events get a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          body: anyValue,
          isBase64Encoded: anyValue,
          headers: anyValue,
          rawPath: anyValue,
          method: anyValue,
        }),
        async (m) => {
          const event = {
            ...post,
            body: m.body,
            isBase64Encoded: m.isBase64Encoded,
            headers: m.headers,
            rawPath: m.rawPath,
            requestContext: { http: { method: m.method } },
          };
          await check(() => viaHttp(event));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('CloudEvents and timer firings with hostile envelopes are answered, not thrown', async () => {
    const ce = loadEvent('cloudevent');
    await fc.assert(
      fc.asyncProperty(anyValue, anyValue, requestText, async (id, source, data) => {
        await check(() =>
          viaJson(events)(
            eventBytes([
              { ...ce, id, source, data },
              { ...ce, id: `ok-${++counter}`, data },
            ]),
          ),
        );
        await check(() =>
          viaJson(timer)(
            eventBytes({
              triggerTime: typeof id === 'string' ? id : '2026-11-29T16:00:00Z',
              triggerName: source,
              payload: data,
            }),
          ),
        );
      }),
      { numRuns: 700 },
    );
  });
});
