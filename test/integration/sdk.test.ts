import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signRpcHeaders } from '../../lib/resellertrade/client.js';
import { buildSendCouponForm } from '../../lib/resellertrade/form.js';
import { startEmulator, type Emulator } from '../../local/emulator/server.js';
import { recipient } from '../fixtures/operations.js';

// The official SDK is CommonJS; require() gives the very module instances callApi uses, so stubs reach it.
const require = createRequire(import.meta.url);
const OpenApi = require('@alicloud/openapi-client') as {
  default: new (c: unknown) => {
    callApi(p: unknown, r: unknown, o: unknown): Promise<{ statusCode: number; body: Record<string, unknown> }>;
  };
  Config: new (c: unknown) => unknown;
  Params: new (p: unknown) => unknown;
  OpenApiRequest: new (r: unknown) => unknown;
};
const Util = require('@alicloud/tea-util') as {
  default: { getNonce(): string };
  RuntimeOptions: new (o: unknown) => unknown;
};
const OpenApiUtil = require('@alicloud/openapi-util') as { default: { getTimestamp(): string } };

const KEY = {
  accessKeyId: 'STS.sdkInteropKey',
  accessKeySecret: 'sdk-interop-secret',
  securityToken: 'sdk-interop-token',
};

const params = () =>
  new OpenApi.Params({
    action: 'SendCoupon',
    version: '2019-12-27',
    protocol: 'HTTP',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
const body = (requestId: string) => ({
  SellerId: '3944837183',
  TemplateId: '295873',
  RequestId: requestId,
  FromApp: 'sdk-app',
  UserAmountModelList: [
    { Uid: '1918000000883', Amount: 100 },
    { Uid: '12345678901234567890', Amount: 2.5 },
  ],
});

function sdkClient(endpoint: string, overrides: Record<string, unknown> = {}) {
  return new OpenApi.default(
    new OpenApi.Config({
      ...KEY,
      endpoint,
      protocol: 'HTTP',
      regionId: 'cn-hangzhou',
      readTimeout: 5000,
      connectTimeout: 5000,
      ...overrides,
    }),
  );
}

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ ...KEY });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => emulator.ledger.reset());

describe('@alicloud/openapi-client against the emulator', () => {
  const host = () => emulator.url.replace('http://', '');

  it('SendCoupon signed with ACS3 (the SDK default) succeeds and issues exact uids', async () => {
    const res = await sdkClient(host()).callApi(
      params(),
      new OpenApi.OpenApiRequest({ body: body('sdk-v3') }),
      new Util.RuntimeOptions({}),
    );
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ Success: true, Code: 'success', RequestId: 'sdk-v3' });
    expect(emulator.ledger.list().map((c) => [c.uid, c.amount, c.requestId])).toEqual([
      ['1918000000883', 100, 'sdk-v3'],
      ['12345678901234567890', 2.5, 'sdk-v3'],
    ]);
  });

  it('SendCoupon signed with V1 HMAC-SHA1 (signatureAlgorithm v2) succeeds', async () => {
    const res = await sdkClient(host(), { signatureAlgorithm: 'v2' }).callApi(
      params(),
      new OpenApi.OpenApiRequest({ body: body('sdk-v1') }),
      new Util.RuntimeOptions({}),
    );
    expect(res.body).toMatchObject({ Success: true });
    expect(emulator.ledger.list()).toHaveLength(2);
  });

  for (const alg of ['ACS3', 'v2'] as const) {
    it(`a wrong secret is answered SignatureDoesNotMatch and issues nothing (${alg})`, async () => {
      const client = sdkClient(host(), {
        accessKeySecret: 'wrong',
        ...(alg === 'v2' ? { signatureAlgorithm: 'v2' } : {}),
      });
      const err = await client
        .callApi(params(), new OpenApi.OpenApiRequest({ body: body(`sdk-bad-${alg}`) }), new Util.RuntimeOptions({}))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 403 });
      expect(emulator.ledger.list()).toHaveLength(0);
    });
  }

  it('rejects a replayed nonce and a stale timestamp', async () => {
    const sdk = OpenApiUtil.default;
    const util = Util.default;
    const realTs = sdk.getTimestamp;
    const realNonce = util.getNonce;
    try {
      util.getNonce = () => 'fixed-nonce-0123456789abcdef0123';
      await sdkClient(host()).callApi(
        params(),
        new OpenApi.OpenApiRequest({ body: body('n1') }),
        new Util.RuntimeOptions({}),
      );
      const reused = await sdkClient(host())
        .callApi(params(), new OpenApi.OpenApiRequest({ body: body('n2') }), new Util.RuntimeOptions({}))
        .catch((e: unknown) => e);
      expect(reused).toMatchObject({ code: 'SignatureNonceUsed' });
      util.getNonce = realNonce;
      sdk.getTimestamp = () => '2020-01-01T00:00:00Z';
      const stale = await sdkClient(host())
        .callApi(params(), new OpenApi.OpenApiRequest({ body: body('n3') }), new Util.RuntimeOptions({}))
        .catch((e: unknown) => e);
      expect(stale).toMatchObject({ code: 'InvalidTimeStamp.Expired' });
    } finally {
      sdk.getTimestamp = realTs;
      util.getNonce = realNonce;
    }
    expect(emulator.ledger.list()).toHaveLength(2);
  });
});

describe('our signer and the official SDK, same call', () => {
  it('produce the same Authorization for a pinned date and nonce', async () => {
    let captured: { headers: http.IncomingHttpHeaders; body: string } | undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        captured = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"Success":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sdk = OpenApiUtil.default;
    const util = Util.default;
    const realTs = sdk.getTimestamp;
    const realNonce = util.getNonce;
    sdk.getTimestamp = () => '2025-01-01T00:00:00Z';
    util.getNonce = () => '0123456789abcdef0123456789abcdef';
    try {
      await sdkClient(host).callApi(
        params(),
        new OpenApi.OpenApiRequest({ body: body('pinned') }),
        new Util.RuntimeOptions({}),
      );
    } finally {
      sdk.getTimestamp = realTs;
      util.getNonce = realNonce;
      server.close();
    }
    const op = {
      sellerId: { digits: '3944837183', kind: 'string' as const },
      templateId: { digits: '295873', kind: 'string' as const },
      requestId: 'pinned',
      fromApp: 'sdk-app',
      form: 'flat' as const,
      recipients: [recipient('1918000000883', 100, 'number'), recipient('12345678901234567890', 2.5, 'string')],
    };
    const form = buildSendCouponForm(op, op.recipients, 'pinned');
    expect(form).toBe(captured?.body);
    const ours = signRpcHeaders({
      action: 'SendCoupon',
      host,
      body: form,
      credentials: KEY,
      date: new Date('2025-01-01T00:00:00Z'),
      nonce: '0123456789abcdef0123456789abcdef',
    });
    expect(ours.authorization).toBe(captured?.headers.authorization);
  });
});
