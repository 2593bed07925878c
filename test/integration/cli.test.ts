import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSendCouponForm } from '../../lib/resellertrade/form.js';
import { createResellerTradeClient } from '../../lib/resellertrade/client.js';
import { createHttpTransport } from '../../lib/http/transport.js';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from '../../local/emulator/defaults.js';
import { coupon } from '../helpers/cli.js';
import { CALLER_KEYS } from '../helpers/caller.js';
import { fault, ledger, rid, startStack, type Stack } from '../helpers/stack.js';
import { operation, recipient } from '../fixtures/operations.js';
import { docBatchRequestText } from '../fixtures/requests.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ UPSTREAM_TIMEOUT_MS: '800', LOCAL_AUTH: 'function', LOCAL_CALLER_KEYS: CALLER_KEYS });
});
afterAll(async () => {
  await stack.stop();
});

const keys = { LOCAL_CALLER_KEYS: CALLER_KEYS };
const flags = (id: string, ...uids: string[]) => [
  '--request-id',
  id,
  '--template',
  '295873',
  '--seller',
  '3944837183',
  '--from-app',
  'cli',
  ...uids.flatMap((u) => ['--uid', u]),
];
const json = (run: { stdout: string }) =>
  JSON.parse(run.stdout) as Record<string, unknown> & { recipients: Array<Record<string, string>> };

describe('coupon --help', () => {
  it.each([[[]], [['--help']], [['send', '--help']], [['status', '--help']], [['reconcile', '--help']]])(
    '%j says how to use it',
    async (args) => {
      const run = await coupon(stack, args);
      expect(run.stdout).toMatch(/Usage: coupon/);
      expect(run.code).toBe(args.length === 0 ? 2 : 0);
    },
  );

  it('refuses an unknown option with exit 2 and a pointer to --help', async () => {
    const run = await coupon(stack, ['reconcile', '--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Unknown option '--bogus'[\s\S]*--help/);
  });
});

describe('coupon send', () => {
  it('sends by flags (signed with LOCAL_CALLER_KEYS), masks uids, and exits 0 on full success', async () => {
    const id = rid('cli-flags');
    const run = await coupon(stack, ['send', ...flags(id, '1918000000883:8.88', '1918000000884:1e2')], keys);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/1918\*{6}883\s+8\.88\s+SENT/);
    expect(run.stdout).not.toContain('1918000000883');
    // stderr is not a terminal here: no progress line, and nothing else to say on a full success.
    expect(run.stderr).toBe('');
    expect((await ledger(stack)).filter((c) => c.requestId === id).map((c) => c.amount)).toEqual([8.88, 100]);
  });

  it.each([
    [
      'flat',
      (id: string) =>
        JSON.stringify({
          SellerId: 3944837183,
          TemplateId: 295873,
          RequestId: id,
          FromApp: 'cli',
          userAmountModelList: [{ uid: 41, amount: 1 }],
        }),
    ],
    [
      'envelope',
      (id: string) =>
        JSON.stringify({
          fromApp: 'cli',
          requestId: id,
          param: { sellerId: 3944837183, templateId: 295873, userAmountModelList: [{ uid: 42, amount: 1 }] },
        }),
    ],
    ['batch', (id: string) => docBatchRequestText.replace('dsnjvui9svvsd-14indw', id)],
  ])('sends a %s request from --file, as JSON with --json', async (_form, make) => {
    const id = rid('cli-file');
    const file = join(mkdtempSync(join(tmpdir(), 'coupon-')), 'request.json');
    writeFileSync(file, make(id));
    const run = await coupon(stack, ['send', '--file', file, '--json'], keys);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(id);
    // stdout is one JSON document: the progress line went to stderr.
    expect(() => JSON.parse(run.stdout) as unknown).not.toThrow();
    expect(run.stderr).toBe('');
    expect((await ledger(stack)).filter((c) => c.requestId === id)).toHaveLength(1);
  });

  it('exits 1 when the stack refuses the caller, and 2 without a RequestId', async () => {
    expect((await coupon(stack, ['send', ...flags(rid('cli-unsigned'), '7:1')])).code).toBe(1);
    expect((await coupon(stack, ['send', '--template', '1', '--uid', '7:1'], keys)).code).toBe(2);
  });
});

describe('coupon status', () => {
  it('shows a completed operation, masked unless --show-uids', async () => {
    const id = rid('cli-status');
    await coupon(stack, ['send', ...flags(id, '1918000000886:2')], keys);
    const run = await coupon(stack, ['status', '--request-id', id, '--json'], keys);
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({
      RequestId: id,
      state: 'COMPLETED',
      recipients: [{ uid: '1918******886', status: 'SENT', youhuiId: expect.any(String) }],
    });
    const shown = await coupon(stack, ['status', '--request-id', id, '--json', '--show-uids'], keys);
    expect(json(shown).recipients[0]?.['uid']).toBe('1918000000886');
    const table = await coupon(stack, ['status', '--request-id', id], keys);
    expect(table.stdout).toMatch(/COMPLETED[\s\S]*upstream RequestId[\s\S]*1918\*{6}886\s+2\s+SENT/);
  });

  it('shows a partial operation, what each recipient is owed, and exits 1 (some FAILED)', async () => {
    const id = rid('cli-partial');
    await fault(stack, { mode: 'business-error', count: 1 });
    const own = await startStack({
      CHUNK_SIZE: '1',
      CHUNK_CONCURRENCY: '1',
      RESELLERTRADE_ENDPOINT: stack.emulator,
      LOCAL_AUTH: 'function',
      LOCAL_CALLER_KEYS: CALLER_KEYS,
    });
    try {
      await coupon(own, ['send', ...flags(id, '51:1', '52:1')], keys);
      const run = await coupon(own, ['status', '--request-id', id, '--json'], keys);
      expect(run.code).toBe(1);
      expect(json(run).recipients.map((r) => r['status'])).toEqual(['FAILED', 'SENT']);
    } finally {
      await own.stop();
    }
  });

  it('shows a running operation with its lease', async () => {
    const own = await startStack({ EMULATOR_LATENCY_MS: '2500' });
    try {
      const id = rid('cli-running');
      const sending = coupon(own, ['send', ...flags(id, '61:1')]);
      await new Promise((r) => setTimeout(r, 800));
      const run = await coupon(own, ['status', '--request-id', id, '--json']);
      expect(json(run)).toMatchObject({
        state: 'RUNNING',
        leaseUntil: expect.any(String),
        chunks: [{ state: 'SENDING' }],
      });
      expect((await sending).code).toBe(0);
    } finally {
      await own.stop();
    }
  });
});

// The function's upstream timeout (800 ms, as the stack has it) and no settle window: these tests wait out the
// timeout themselves; the settle window has its own tests against a slow upstream (cli-reconcile.test.ts).
const settled = { ...keys, UPSTREAM_TIMEOUT_MS: '800', RECONCILE_SETTLE_SECONDS: '0' };
const pastTimeout = () => new Promise((r) => setTimeout(r, 900));

describe('coupon reconcile', () => {
  it('attributes a coupon issued before a timeout, and sends nothing', async () => {
    const id = rid('cli-after');
    await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 5000 });
    const first = await coupon(stack, ['send', ...flags(id, '1918000000887:3')], keys);
    expect(first.code).toBe(3);
    expect(first.stderr).toContain(`run coupon reconcile --request-id ${id}`);
    await pastTimeout();
    const before = (await ledger(stack)).length;
    const run = await coupon(stack, ['reconcile', '--request-id', id, '--resend', '--json'], settled);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      reconciled: [{ was: 'UNKNOWN', status: 'SENT', youhuiId: expect.any(String) }],
    });
    expect((await ledger(stack)).length).toBe(before);
    const after = await coupon(stack, ['status', '--request-id', id, '--json'], keys);
    expect(json(after).recipients[0]).toMatchObject({ status: 'SENT' });
  });

  it('finds what was never issued, sends it only with --resend, only once, and status shows where it went', async () => {
    const id = rid('cli-before');
    await fault(stack, { mode: 'timeout-before', count: 1, delayMs: 5000 });
    await coupon(stack, ['send', ...flags(id, '1918000000888:4')], keys);
    await pastTimeout();
    const found = await coupon(stack, ['reconcile', '--request-id', id, '--json'], settled);
    expect(found.code).toBe(1);
    expect(JSON.parse(found.stdout)).toMatchObject({
      reconciled: [
        { status: 'FAILED', finding: expect.stringMatching(/never issued.*coupon reconcile --request-id .* --resend/) },
      ],
    });
    expect((await ledger(stack)).filter((c) => c.requestId.startsWith(id))).toHaveLength(0);
    const owed = await coupon(stack, ['reconcile', '--request-id', id], settled);
    expect(owed.code).toBe(1);
    expect(owed.stderr).toContain(`run coupon reconcile --request-id ${id} --resend to send them`);
    const resent = await coupon(stack, ['reconcile', '--request-id', id, '--resend'], settled);
    expect(resent.code).toBe(0);
    // One line per recipient saying what happened: no "FAILED / never issued" followed by a bare success.
    expect(resent.stdout).toMatch(
      new RegExp(`1918\\*{6}888\\s+FAILED\\s+SENT\\s+\\d+\\s+no coupon found; sent again as ${id}:resend: issued`),
    );
    expect(resent.stdout).not.toMatch(/never issued;/);
    expect((await ledger(stack)).filter((c) => c.requestId.startsWith(id)).map((c) => c.requestId)).toEqual([
      `${id}:resend`,
    ]);
    const again = await coupon(stack, ['reconcile', '--request-id', id, '--resend'], settled);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to reconcile/);
    expect((await ledger(stack)).filter((c) => c.requestId.startsWith(id))).toHaveLength(1);
    const status = await coupon(stack, ['status', '--request-id', id, '--json'], keys);
    expect(status.code).toBe(0);
    expect(json(status).recipients[0]).toMatchObject({
      status: 'FAILED',
      Code: 'NeverIssued',
      resent: { RequestId: `${id}:resend`, status: 'SENT', youhuiId: expect.any(String) },
    });
    const table = await coupon(stack, ['status', '--request-id', id], keys);
    expect(table.stdout).toMatch(new RegExp(`NeverIssued\\s+${id}:resend: SENT \\d+`));
  });

  it('refuses to guess when more coupons are found than operations that could own them (exit 3: still UNKNOWN)', async () => {
    const id = rid('cli-guess');
    const uid = '1918000000889';
    const outside = createResellerTradeClient(new URL(stack.emulator), createHttpTransport());
    const op = operation({
      sellerId: { digits: '3944837183', kind: 'string' },
      templateId: { digits: '295873', kind: 'string' },
      recipients: [recipient(uid, 1)],
    });
    await outside.call(
      'SendCoupon',
      buildSendCouponForm(op, op.recipients, rid('outside')),
      { accessKeyId: DEFAULT_EMULATOR_KEY_ID, accessKeySecret: DEFAULT_EMULATOR_KEY_SECRET },
      2000,
    );
    await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 5000 });
    await coupon(stack, ['send', ...flags(id, `${uid}:1`)], keys);
    await pastTimeout();
    const run = await coupon(stack, ['reconcile', '--request-id', id, '--resend'], settled);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/refused to guess/);
    const status = await coupon(stack, ['status', '--request-id', id, '--json'], keys);
    expect(status.code).toBe(3);
    expect(json(status).recipients[0]).toMatchObject({ status: 'UNKNOWN' });
  });
});
