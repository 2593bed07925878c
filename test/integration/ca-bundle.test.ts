/**
 * A rediss:// store on FC: the build copies the CA bundle COUPON_REDIS_CA_FILE names into each function's folder,
 * and the built function, started with NODE_EXTRA_CA_CERTS pointing at that copy (what s.yaml sets), reaches Redis
 * over TLS and sends.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from '../../local/emulator/defaults.js';
import { startEmulator, type Emulator } from '../../local/emulator/server.js';
import { FUNCTIONS, buildAll } from '../../scripts/build.js';
import { REDIS_CA_FILE_NAME } from '../../scripts/ca-bundle.js';
import { startRedis, TEST_CA_FILE, type RedisServer } from '../helpers/redis.js';
import { httpEvent } from '../helpers/stack.js';

let out: string;
let redis: RedisServer;
let emulator: Emulator;
beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'dist-ca-'));
  await buildAll(out, TEST_CA_FILE);
  redis = await startRedis({ tls: true });
  emulator = await startEmulator({
    port: 0,
    accessKeyId: DEFAULT_EMULATOR_KEY_ID,
    accessKeySecret: DEFAULT_EMULATOR_KEY_SECRET,
  });
});
afterAll(async () => {
  await redis?.stop();
  await emulator?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('the CA bundle of a rediss:// store', () => {
  it('is copied into every function folder the build writes', () => {
    for (const name of Object.keys(FUNCTIONS))
      expect(readFileSync(join(out, name, REDIS_CA_FILE_NAME), 'utf8')).toBe(readFileSync(TEST_CA_FILE, 'utf8'));
  });

  it('is trusted by the built function through NODE_EXTRA_CA_CERTS, which then sends once', async () => {
    const body = JSON.stringify({
      SellerId: 3944837183,
      TemplateId: 295873,
      FromApp: 'ca-app',
      RequestId: `ca-bundle-${process.pid}`,
      userAmountModelList: [{ uid: 1918000000883, amount: 5 }],
    });
    const script = `
      const { handler } = await import(${JSON.stringify(join(out, 'coupon-http', 'index.mjs'))});
      const res = await handler(Buffer.from(process.env.EVENT), { requestId: 'ca-1', credentials: {}, function: { name: 'coupon-http', timeout: 10 } });
      process.stdout.write('RESULT ' + JSON.stringify(res) + '\\n');
      process.exit(0);
    `;
    // Asynchronously: the emulator answers from this process.
    const { stdout: result } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env['PATH'] ?? '',
        EVENT: JSON.stringify(httpEvent('/coupons', body)),
        NODE_EXTRA_CA_CERTS: join(out, 'coupon-http', REDIS_CA_FILE_NAME),
        IDEMPOTENCY_STORE: redis.url,
        RESELLERTRADE_ENDPOINT: emulator.url,
        ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_EMULATOR_KEY_ID,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_EMULATOR_KEY_SECRET,
      },
      encoding: 'utf8',
    });
    const line = result.split('\n').find((l) => l.startsWith('RESULT ')) ?? '';
    expect(JSON.parse(line.slice(7))).toMatchObject({ statusCode: 200 });
    expect(emulator.ledger.list().filter((c) => c.fromApp === 'ca-app')).toHaveLength(1);
  });

  it('is refused at build time when the file holds no certificate, naming the variable', async () => {
    const notPem = join(out, 'not-a-ca.txt');
    writeFileSync(notPem, 'hello');
    await expect(buildAll(mkdtempSync(join(tmpdir(), 'dist-ca-bad-')), notPem)).rejects.toThrow(
      /COUPON_REDIS_CA_FILE: .* holds no PEM certificate/,
    );
  });
});
