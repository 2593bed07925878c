import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coupon } from '../helpers/cli.js';
import { fault, ledger, rid, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ UPSTREAM_TIMEOUT_MS: '800' });
});
afterAll(async () => {
  await stack.stop();
});

const send = (id: string, ...extra: string[]) => [
  'send',
  '--request-id',
  id,
  '--template',
  '295873',
  '--seller',
  '3944837183',
  '--from-app',
  'exit',
  '--uid',
  '1918000000950:2',
  ...extra,
];

/** One table for every command: each row sets the scene, runs one command, and names the status it must end with. */
const TABLE: Array<[string, number, () => Promise<string[]>, RegExp?]> = [
  ['send: every recipient SENT', 0, async () => send(rid('ok'))],
  [
    'send: the upstream refuses (FAILED)',
    1,
    async () => {
      await fault(stack, { mode: 'business-error', count: 1 });
      return send(rid('refused'));
    },
  ],
  [
    'send: a flag it does not know (usage)',
    2,
    async () => [...send(rid('usage')), '--bogus'],
    /Unknown option '--bogus'[\s\S]*coupon send --help/,
  ],
  [
    'send: the answer timed out (UNKNOWN)',
    3,
    async () => {
      await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 3000 });
      return send(rid('unknown'));
    },
    /some outcomes are UNKNOWN.*run coupon reconcile --request-id unknown-/,
  ],
  [
    'status: a RequestId nobody sent (not found)',
    4,
    async () => ['status', '--request-id', rid('nobody')],
    /no operation with RequestId/,
  ],
  ['reconcile: a RequestId nobody sent (not found)', 4, async () => ['reconcile', '--request-id', rid('nobody')]],
  ['status: without --request-id (usage)', 2, async () => ['status'], /--request-id is required/],
  [
    'status: an operation all SENT',
    0,
    async () => {
      const id = rid('st-ok');
      await coupon(stack, send(id));
      return ['status', '--request-id', id];
    },
  ],
  [
    'status: an operation with an UNKNOWN recipient',
    3,
    async () => {
      const id = rid('st-unknown');
      await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 3000 });
      await coupon(stack, send(id));
      return ['status', '--request-id', id];
    },
    /run coupon reconcile --request-id st-unknown-/,
  ],
  [
    'reconcile: nothing UNKNOWN (nothing to do)',
    0,
    async () => {
      const id = rid('rc-none');
      await coupon(stack, send(id));
      return ['reconcile', '--request-id', id];
    },
  ],
  [
    'reconcile: a settle window that is not a number (usage)',
    2,
    async () => ['reconcile', '--request-id', 'x', '--settle-seconds', 'soon'],
    /--settle-seconds/,
  ],
];

describe('one exit-status table for every command', () => {
  it.each(TABLE)('%s → %i', async (_name, code, scene, stderr) => {
    const run = await coupon(stack, await scene());
    expect(run.code, run.stderr).toBe(code);
    if (stderr) expect(run.stderr).toMatch(stderr);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('coupon send --dry-run', () => {
  it('checks the request and shows the calls it would make; nothing is sent', async () => {
    const id = rid('dry');
    const before = (await ledger(stack)).length;
    const run = await coupon(stack, [...send(id, '--dry-run', '--json')]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      dryRun: true,
      operations: [
        {
          RequestId: id,
          SellerId: '3944837183',
          TemplateId: '295873',
          FromApp: 'exit',
          chunks: [id],
          recipients: [{ uid: '1918******950', amount: '2', status: 'DRY_RUN' }],
        },
      ],
    });
    expect((await ledger(stack)).length).toBe(before);
    // Nothing was recorded either: the RequestId is still unknown to the store.
    expect((await coupon(stack, ['status', '--request-id', id])).code).toBe(4);
  });

  it('refuses an invalid request as the function would (exit 1), naming the field', async () => {
    const run = await coupon(stack, [
      'send',
      '--request-id',
      'x',
      '--template',
      '1',
      '--uid',
      '5:0',
      '--seller',
      '1',
      '--from-app',
      'a',
      '--dry-run',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/would be refused: .*amount/);
  });

  it.each([['true'], ['1']])('DRY_RUN=%s in the environment is honoured, and said', async (value) => {
    const id = rid('dry-env');
    const run = await coupon(stack, send(id), { DRY_RUN: value });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('DRY_RUN is set: this is a dry run (unset DRY_RUN to send)');
    expect((await ledger(stack)).filter((c) => c.requestId === id)).toHaveLength(0);
  });

  it('DRY_RUN=false sends; an unreadable DRY_RUN is refused, never ignored', async () => {
    const id = rid('dry-off');
    expect((await coupon(stack, send(id), { DRY_RUN: 'false' })).code).toBe(0);
    expect((await ledger(stack)).filter((c) => c.requestId === id)).toHaveLength(1);
    const bad = await coupon(stack, send(rid('dry-bad')), { DRY_RUN: 'yes' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('DRY_RUN must be true or false (got "yes")');
  });

  it('DRY_RUN with reconcile --resend is refused: it would send', async () => {
    const run = await coupon(stack, ['reconcile', '--request-id', 'x', '--resend'], { DRY_RUN: 'true' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/DRY_RUN is set, and --resend would send coupons/);
  });
});

describe('a replay is marked', () => {
  it('sending the same request again shows "replayed" and sends nothing', async () => {
    const id = rid('replay');
    const first = await coupon(stack, send(id));
    expect(first.stdout).not.toMatch(/replayed/);
    const again = await coupon(stack, send(id));
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^${id}: .*\\(replayed\\)$`, 'm'));
    expect(again.stderr).toMatch(/replayed \(Idempotent-Replayed\): this RequestId was sent before/);
    expect((await ledger(stack)).filter((c) => c.requestId === id)).toHaveLength(1);
  });
});
