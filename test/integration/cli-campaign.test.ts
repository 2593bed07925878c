import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BUNDLE } from '../../scripts/build-cli.js';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from '../../local/emulator/defaults.js';
import { startOssServer, type OssServer } from '../../local/oss/server.js';
import { coupon, ensureCliBuilt } from '../helpers/cli.js';
import { ossEndpointOf, writeRecipientsCsv } from '../helpers/campaign.js';
import { ledger, startStack, type Stack } from '../helpers/stack.js';

const run = promisify(execFile);
const BUCKET = 'coupon-campaigns';
const KEY = { accessKeyId: DEFAULT_EMULATOR_KEY_ID, accessKeySecret: DEFAULT_EMULATOR_KEY_SECRET };
const dir = mkdtempSync(join(tmpdir(), 'coupon-cli-campaign-'));

let stack: Stack;
/** Started only when the stack serves no bucket of its own: the same OSS-compatible server the stack runs. */
let ownBucket: OssServer | undefined;
let ossEndpoint: string;
beforeAll(async () => {
  stack = await startStack({ OSS_PORT: '0' });
  const served = ossEndpointOf(stack);
  if (served === undefined) {
    ownBucket = await startOssServer({ buckets: [BUCKET], credentials: [KEY], host: '127.0.0.1', port: 0 });
  }
  ossEndpoint = served ?? (ownBucket as OssServer).url;
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await ownBucket?.close();
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  coupon(stack, ['campaign', ...args], { OSS_ENDPOINT: ossEndpoint, ...env });
const bucket = () =>
  new OSS({ endpoint: ossEndpoint, region: 'oss-cn-hangzhou', bucket: BUCKET, secure: false, ...KEY });
const listed = async (prefix: string) => ((await bucket().listV2({ prefix })).objects ?? []).map((o) => o.name);

describe('coupon campaign, checked before anything leaves the machine', () => {
  it('refuses a list with invalid lines by number: exit 2, nothing uploaded, nothing started or sent', async () => {
    const path = join(dir, 'invalid.csv');
    writeFileSync(
      path,
      'uid,amount\n1918000000000000883,8.88\n0883,5\n1918000000000000884,100.001\n1918000000000000883,1\n\n1918000000000000885,2\n',
    );
    const before = (await ledger(stack)).length;
    const r = await cli(['start', '--template', '7', '--seller', '3', '--from-app', 'cli', '--file', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('7 lines, 1 blank; 2 recipients totalling 10.88 in 1 chunks; 3 invalid lines');
    expect(r.stderr).toMatch(/line 3: uid "0883"/);
    expect(r.stderr).toMatch(/line 4: amount/);
    expect(r.stderr).toContain('line 5: uid duplicates the uid on line 2');
    expect(r.stderr).toContain('nothing was uploaded or started');
    expect(await listed('lists/')).toEqual([]);
    expect((await ledger(stack)).length).toBe(before);
  });

  it('refuses a file that cannot be a campaign (no header) and a missing template, naming them (exit 2)', async () => {
    const path = join(dir, 'headless.csv');
    writeFileSync(path, '1918000000000000883,8.88\n');
    const headless = await cli(['start', '--template', '7', '--file', path]);
    expect(headless.code).toBe(2);
    expect(headless.stderr).toMatch(/cannot be a campaign: line 1 must be the CSV header/);
    const noTemplate = await cli(['start', '--file', path]);
    expect(noTemplate.code).toBe(2);
    expect(noTemplate.stderr).toMatch(/--template is required/);
    expect(await listed('lists/')).toEqual([]);
  });

  it('asks about a campaign that does not exist: exit 4, said plainly', async () => {
    const r = await cli(['status', 'no-such-campaign']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^coupon campaign: no campaign no-such-campaign/);
    const pause = await cli(['pause', 'no-such-campaign']);
    expect(pause.code).toBe(4);
  });

  it('says plainly when no stack answers (exit 1) and keeps every message to one line, no stack trace', async () => {
    const r = await coupon({ gateway: 'http://127.0.0.1:1', emulator: stack.emulator }, ['campaign', 'status', 'c1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the local stack at http:\/\/127\.0\.0\.1:1\/ does not answer/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('without the OSS client installed (a bundle with no node_modules), says how to install it (exit 2)', async () => {
    await ensureCliBuilt();
    const alone = mkdtempSync(join(tmpdir(), 'coupon-alone-'));
    const bin = join(alone, 'coupon.mjs');
    copyFileSync(CLI_BUNDLE, bin);
    const path = join(dir, 'one.csv');
    writeFileSync(path, 'uid,amount\n1918000000000000883,8.88\n');
    const r = await run(process.execPath, [bin, 'campaign', 'start', '--template', '7', '--file', path], {
      cwd: alone,
      env: { PATH: process.env['PATH'] ?? '', PORT: '1', OSS_ENDPOINT: ossEndpoint },
    }).then(
      (ok) => ({ code: 0, stderr: ok.stderr }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the OSS client \(ali-oss\) cannot be loaded: install the command with its dependencies/);
  });
});

describe('a 20,000-recipient campaign end to end through the CLI', () => {
  it('start → status --watch until COMPLETED → results: every recipient SENT, one coupon each', async () => {
    const list = await writeRecipientsCsv(join(dir, 'e2e.csv'), 20_000, { seed: 7, keep: true });
    const start = ['start', '--template', '295873', '--seller', '3944837183', '--from-app', 'cli-e2e'];
    const started = await cli([...start, '--file', list.path]);
    expect(started.code).toBe(0);
    expect(started.stderr).toContain('20001 lines; 20000 recipients');
    const id = started.stdout.trim();
    expect(id).toMatch(/^c-[0-9a-f]{40}$/);

    const watched = await cli(['status', id, '--watch', '--interval', '0.5']);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(new RegExp(`^${id}: COMPLETED, 20,000 of 20,000 done \\(sent 20,000`));

    const json = await cli(['status', id, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      campaignId: id,
      state: 'COMPLETED',
      total: 20_000,
      planned: 20_000,
      sent: 20_000,
      failed: 0,
      unknown: 0,
      pending: 0,
    });

    const masked = await cli(['results', id, '--json']);
    expect(masked.code).toBe(0);
    const rows = masked.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { uid: string; status: string; requestId: string });
    expect(rows).toHaveLength(20_000);
    expect(rows.every((r) => r.status === 'SENT' && /^\d{4}\*+\d{3}$/.test(r.uid))).toBe(true);
    const shown = await cli(['results', id, '--json', '--show-uids']);
    const uids = shown.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { uid: string }).uid);
    expect(new Set(uids)).toEqual(new Set(list.uids));

    const coupons = (await ledger(stack)).filter((c) => c.requestId.startsWith(`${id}:`));
    const perUid = new Map<string, number>();
    for (const c of coupons) perUid.set(c.uid, (perUid.get(c.uid) ?? 0) + 1);
    expect(perUid.size).toBe(20_000);
    expect([...perUid.values()].every((n) => n === 1)).toBe(true);

    // The same start again answers the same campaign and sends nothing.
    const again = await cli([...start, '--file', list.path]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(id);
    expect(again.stderr).toMatch(/already started/);
    expect((await ledger(stack)).filter((c) => c.requestId.startsWith(`${id}:`))).toHaveLength(20_000);
  }, 300_000);
});
