import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyOf } from '../../lib/idempotency/keys.js';
import { createRedisClient, type RedisClient } from '../../lib/redis/client.js';
import { coupon, type CliRun } from '../helpers/cli.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.js';
import { fault, ledger, rid, startStack, type Stack } from '../helpers/stack.js';

/*
 * Records written raw into a real Redis, as a bad migration, another tool or a hand edit could leave them. The
 * CLI names each malformed record (its key, what is wrong) and skips it; asked for one, it exits 2 with that
 * message. Never a stack trace, never an internal path, never a raw control character on the terminal.
 */
let redis: RedisServer;
let client: RedisClient;
let stack: Stack;
beforeAll(async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url);
  stack = await startStack({ IDEMPOTENCY_STORE: redis.url, UPSTREAM_TIMEOUT_MS: '800' });
});
afterAll(async () => {
  await stack.stop();
  client.disconnect();
  await redis.stop();
});

const SELLER = '3944837183';
const APP = 'raw';
const op = (requestId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    sellerId: SELLER,
    templateId: '295873',
    fromApp: APP,
    requestId,
    recipients: [['7001', '1']],
    ...extra,
  });
const chunk = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    state: 'SENT',
    upstreamRequestId: 'u-1',
    confirmed: [{ youhuiId: { text: '77', kind: 'number' } }],
    at: 1,
    ...extra,
  });

/** Writes one record as a Redis hash, field by field, exactly as given. */
async function writeRaw(requestId: string, fields: Record<string, string>): Promise<string> {
  const key = keyOf(SELLER, APP, requestId);
  const base = {
    status: 'COMPLETED',
    hash: 'h',
    owner: 'o',
    leaseUntil: '0',
    chunkSize: '1',
    op: op(requestId),
    'c:1': chunk(),
  };
  await client.call('HSET', `coupon:idem:${key}`, ...Object.entries({ ...base, ...fields }).flat());
  return key;
}

const MALFORMED: Array<[string, Record<string, string>, RegExp]> = [
  ['op that is not JSON', { op: '{"sellerId": "39448' }, /op is not JSON/],
  ['chunk that is not JSON', { 'c:1': '{"state": SENT}' }, /c:1 is not JSON/],
  [
    'recipients "x"',
    { op: op('@', { recipients: 'x' }) },
    /op\.recipients must be a non-empty list of \[uid, amount\] \(got "x"\)/,
  ],
  ['chunkSize 0', { chunkSize: '0' }, /chunkSize must be a whole number >= 1 \(got 0\)/],
  ['a status nobody writes', { status: 'DONE' }, /status must be one of IN_PROGRESS, COMPLETED \(got "DONE"\)/],
  ['a chunk state nobody writes', { 'c:1': chunk({ state: 'MAYBE' }) }, /c:1\.state must be one of/],
  ['a chunk the operation does not have', { 'c:9': chunk() }, /chunk "9" is not a chunk of this operation/],
];

const clean = (run: CliRun) => {
  const all = run.stdout + run.stderr;
  expect(all).not.toMatch(/\n\s+at |\.ts:\d|\/work\/|node_modules|Error:/);
  // No raw ESC or C1 control character reaches the terminal.
  expect(all).not.toMatch(/[\u001b\u009b]/);
};

const cli = (args: string[], env: Record<string, string> = {}) => coupon(stack, [...args, '--store', redis.url], env);

describe('coupon with malformed records in the store', () => {
  let keys: Array<[string, string, RegExp]>;
  let good: string;
  beforeAll(async () => {
    keys = [];
    for (const [name, fields, problem] of MALFORMED) {
      const requestId = rid('bad');
      const fixed = name === 'recipients "x"' ? { op: op(requestId, { recipients: 'x' }) } : fields;
      keys.push([requestId, await writeRaw(requestId, fixed), problem]);
    }
    good = rid('good');
    const sent = await coupon(stack, [
      'send',
      '--request-id',
      good,
      '--template',
      '295873',
      '--seller',
      SELLER,
      '--from-app',
      APP,
      '--uid',
      '7002:1',
    ]);
    expect(sent.code).toBe(0);
  });

  it('status of a good operation names every malformed record (key and problem), skips it, and answers', async () => {
    const run = await cli(['status', '--request-id', good]);
    expect(run.code).toBe(0);
    for (const [, key, problem] of keys) {
      const line = run.stderr.split('\n').find((l) => l.includes(key));
      expect(line, key).toMatch(/^coupon: skipped the malformed record /);
      // "op is not JSON" names the record, not the request it may have been: its own key says which.
      expect(line).toMatch(problem);
    }
    clean(run);
  });

  it('reconcile of any operation survives them: it scans every record to attribute coupons', async () => {
    const id = rid('unknown');
    await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 3000 });
    const sent = await coupon(stack, [
      'send',
      '--request-id',
      id,
      '--template',
      '295873',
      '--seller',
      SELLER,
      '--from-app',
      APP,
      '--uid',
      '7003:1',
    ]);
    expect(sent.code).toBe(3);
    await new Promise((r) => setTimeout(r, 900));
    const run = await cli(['reconcile', '--request-id', id, '--json'], {
      UPSTREAM_TIMEOUT_MS: '800',
      RECONCILE_SETTLE_SECONDS: '0',
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ reconciled: [{ status: 'SENT' }] });
    expect(run.stderr).toMatch(/skipped the malformed record/);
    clean(run);
  });

  it.each(MALFORMED.map(([name], i) => [name, i] as const).filter(([name]) => !name.startsWith('op that')))(
    'asked for a record with %s: exit 2, naming its key and the problem',
    async (_name, i) => {
      const [requestId, key, problem] = keys[i] as [string, string, RegExp];
      for (const command of ['status', 'reconcile']) {
        const run = await cli([command, '--request-id', requestId]);
        expect(run.code, command).toBe(2);
        expect(run.stderr).toContain(`the record of ${requestId} (key ${key}) is malformed and cannot be used`);
        expect(run.stderr).toMatch(problem);
        clean(run);
      }
    },
  );

  it('asked by seller and FromApp for a record whose op is not JSON: exit 2 with the problem', async () => {
    const [requestId, key] = keys[0] as [string, string, RegExp];
    const run = await cli(['status', '--request-id', requestId, '--seller', SELLER, '--from-app', APP]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`(key ${key}) is malformed`);
    expect(run.stderr).toMatch(/op is not JSON/);
    clean(run);
  });

  it('an unknown RequestId is "not found" (exit 4), not a usage error', async () => {
    for (const command of ['status', 'reconcile']) {
      const run = await cli([command, '--request-id', rid('nobody')]);
      expect(run.code, command).toBe(4);
      expect(run.stderr).toMatch(/no operation with RequestId .* in the store/);
    }
  });

  it('escape sequences in stored fields never reach the terminal raw', async () => {
    const requestId = rid('esc');
    const evil = '\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202e';
    const fields = {
      op: JSON.stringify({
        sellerId: SELLER,
        templateId: '295873',
        fromApp: APP,
        requestId,
        recipients: [['7004', '1']],
      }),
      'c:1': JSON.stringify({
        state: 'FAILED',
        upstreamRequestId: `u${evil}`,
        code: `Bad${evil}`,
        message: evil,
        at: 1,
      }),
    };
    await writeRaw(requestId, fields);
    const table = await cli(['status', '--request-id', requestId]);
    expect(table.code).toBe(1);
    expect(table.stdout).toContain('Bad\\u001b[2J\\u001b]0;pwned\\u0007\\u009b31m\\u202e');
    clean(table);
    const json = await cli(['status', '--request-id', requestId, '--json']);
    clean(json);
    // Escaped the JSON way: the document still parses, to the stored text.
    expect((JSON.parse(json.stdout) as { recipients: Array<{ Code: string }> }).recipients[0]?.Code).toBe(`Bad${evil}`);
  });
});

describe('a resend interrupted between marking and sending', () => {
  it('is finished by the next --resend, under the same RequestId, after asking GetCouponPage again; one coupon', async () => {
    const id = rid('resume');
    await fault(stack, { mode: 'timeout-before', count: 1, delayMs: 3000 });
    const args = ['--request-id', id, '--template', '295873', '--seller', SELLER, '--from-app', APP, '--uid', '7005:3'];
    expect((await coupon(stack, ['send', ...args])).code).toBe(3);
    await new Promise((r) => setTimeout(r, 900));
    const env = { UPSTREAM_TIMEOUT_MS: '800', RECONCILE_SETTLE_SECONDS: '0' };
    // The record is marked "sent again as …:resend", then the send finds nothing listening.
    const cut = await coupon(
      { gateway: 'http://127.0.0.1:1', emulator: stack.emulator },
      ['reconcile', '--request-id', id, '--resend', '--store', redis.url],
      env,
    );
    expect(cut.code, cut.stdout + cut.stderr).toBe(1);
    expect(cut.stdout).toMatch(
      new RegExp(`sent again as ${id}:resend: not issued .*does not answer: nothing was sent.*--resend to try again`),
    );
    const marked = await cli(['status', '--request-id', id, '--json']);
    expect(JSON.parse(marked.stdout)).toMatchObject({
      recipients: [{ Code: 'NeverIssued', resent: { RequestId: `${id}:resend`, status: 'NOT FOUND' } }],
    });
    expect(await ledger(stack).then((l) => l.filter((c) => c.requestId.startsWith(id)))).toHaveLength(0);

    const done = await cli(['reconcile', '--request-id', id, '--resend', '--json'], env);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ reconciled: [{ status: 'SENT', resentAs: `${id}:resend` }] });
    const again = await cli(['reconcile', '--request-id', id, '--resend'], env);
    expect(again.stdout).toMatch(/nothing to reconcile/);
    expect((await ledger(stack)).filter((c) => c.requestId.startsWith(id)).map((c) => c.requestId)).toEqual([
      `${id}:resend`,
    ]);
    const status = await cli(['status', '--request-id', id, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      recipients: [{ resent: { RequestId: `${id}:resend`, status: 'SENT' } }],
    });
  });
});
