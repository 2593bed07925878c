import http from 'node:http';
import { createRequire } from 'node:module';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBucket } from '../../lib/campaigns/bucket.js';
import { startOssServer, type OssServer } from '../../local/oss/server.js';

const KEY = { accessKeyId: 'LTAIlocaltestkey', accessKeySecret: 'local-test-secret' };
const BUCKET = 'coupon-lists';
const LIST = Buffer.from('uid,amount\n1918000000883,8.88\n2,100\n3,0.5\n');

// The transport ali-oss uses, so a test can alter a request after it was signed.
const urllib = createRequire(createRequire(import.meta.url).resolve('ali-oss'))('urllib') as {
  request(url: string, params: Record<string, unknown>): Promise<unknown>;
};

interface Failure {
  status?: number;
  code?: string;
  requestId?: string;
  message?: string;
}

async function failure(run: () => Promise<unknown>): Promise<Failure> {
  try {
    await run();
  } catch (err) {
    return err as Failure;
  }
  throw new Error('the request succeeded');
}

/** The raw answer to a request, for the XML error shape. */
function raw(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('the local OSS bucket through ali-oss', () => {
  let server: OssServer;
  let skewMs = 0;

  beforeAll(async () => {
    server = await startOssServer({ buckets: [BUCKET], credentials: [KEY], now: () => Date.now() + skewMs });
  });
  afterAll(async () => {
    await server.close();
  });

  const client = (extra: Partial<ConstructorParameters<typeof OSS>[0]> = {}) =>
    new OSS({ endpoint: server.url, region: 'oss-cn-hangzhou', bucket: BUCKET, secure: false, ...KEY, ...extra });

  describe.each([
    ['V1 signatures, virtual-hosted (IP endpoint)', {}],
    ['V4 signatures, virtual-hosted (IP endpoint)', { authorizationV4: true }],
    ['V1 signatures, path style (localhost, sldEnable)', { endpoint: 'x', sldEnable: true }],
  ])('%s', (_name, extra) => {
    const make = () =>
      client('endpoint' in extra ? { ...extra, endpoint: server.url.replace('127.0.0.1', 'localhost') } : extra);

    it('puts, reads a byte range (206, Content-Range), heads, lists by prefix and deletes', async () => {
      const oss = make();
      await oss.put('lists/a.csv', LIST);
      await oss.put('lists/b.csv', Buffer.from('uid,amount\n'));
      await oss.put('other/c.csv', Buffer.from('x'));

      const ranged = await oss.get('lists/a.csv', { headers: { Range: 'bytes=11-29' } });
      expect(ranged.res.status).toBe(206);
      expect(ranged.res.headers['content-range']).toBe(`bytes 11-29/${LIST.length}`);
      expect(ranged.content.toString()).toBe('1918000000883,8.88\n');

      const whole = await oss.get('lists/a.csv');
      expect(whole.res.status).toBe(200);
      expect(whole.content.equals(LIST)).toBe(true);

      const head = await oss.head('lists/a.csv');
      expect(head.res.headers['content-length']).toBe(String(LIST.length));
      expect(head.res.headers['etag']).toMatch(/^"[0-9A-F]{32}"$/);

      const listed = await oss.listV2({ prefix: 'lists/' });
      expect(listed.objects?.map((o) => [o.name, o.size])).toEqual([
        ['lists/a.csv', LIST.length],
        ['lists/b.csv', 11],
      ]);
      const v1 = await oss.list({ prefix: 'other/' });
      expect(v1.objects?.map((o) => o.name)).toEqual(['other/c.csv']);

      await oss.delete('lists/b.csv');
      expect(await failure(() => oss.head('lists/b.csv'))).toMatchObject({ status: 404 });
    });

    it('answers a wrong secret with SignatureDoesNotMatch', async () => {
      const err = await failure(() =>
        client({ ...extra, endpoint: server.url, accessKeySecret: 'wrong' }).get('lists/a.csv'),
      );
      expect(err).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      expect(err.requestId).toMatch(/^[0-9A-F]{24}$/);
    });
  });

  it.each([
    ['V1', false],
    ['V4', true],
  ])('signs and serves keys with spaces, plus signs and non-ASCII characters (%s)', async (_v, v4) => {
    const oss = client({ authorizationV4: v4 });
    const key = `lists/春季 list+1 (a)'*!.csv`;
    await oss.put(key, LIST);
    expect((await oss.get(key)).content.equals(LIST)).toBe(true);
    expect((await oss.listV2({ prefix: 'lists/春季' })).objects?.map((o) => o.name)).toEqual([key]);
  });

  it('takes STS credentials only with their security token', async () => {
    const sts = { accessKeyId: 'STS.localtoken', accessKeySecret: 'sts-secret', securityToken: 'token-1' };
    const stsServer = await startOssServer({ buckets: [BUCKET], credentials: [sts] });
    try {
      const make = (stsToken: string) =>
        new OSS({
          endpoint: stsServer.url,
          region: 'oss-cn-hangzhou',
          bucket: BUCKET,
          secure: false,
          ...sts,
          stsToken,
        });
      await make('token-1').put('sts.csv', LIST);
      expect(await failure(() => make('token-2').get('sts.csv'))).toMatchObject({
        status: 403,
        code: 'InvalidAccessKeyId',
      });
      const bucket = await openBucket({ endpoint: stsServer.url, region: 'oss-cn-hangzhou', bucket: BUCKET, ...sts });
      expect((await bucket.getRange('sts.csv', 0, 10)).toString()).toBe('uid,amount');
    } finally {
      await stsServer.close();
    }
  });

  it('pages a V2 listing with continuation tokens (signed as a sub-resource)', async () => {
    const oss = client();
    for (let i = 0; i < 5; i++) await oss.put(`page/${i}.jsonl`, Buffer.from('{}'));
    const first = await oss.listV2({ prefix: 'page/', 'max-keys': 2 });
    expect(first.isTruncated).toBe(true);
    const second = await oss.listV2({
      prefix: 'page/',
      'max-keys': 10,
      'continuation-token': first.nextContinuationToken ?? '',
    });
    expect(second.objects?.map((o) => o.name)).toEqual(['page/2.jsonl', 'page/3.jsonl', 'page/4.jsonl']);
  });

  it('answers an unknown key id with InvalidAccessKeyId', async () => {
    const err = await failure(() => client({ accessKeyId: 'LTAInobody' }).get('lists/a.csv'));
    expect(err).toMatchObject({ status: 403, code: 'InvalidAccessKeyId' });
  });

  it('refuses a request signed 16 minutes ago (V1 and V4), and takes one 14 minutes off', async () => {
    await client().put('fresh.csv', LIST);
    skewMs = 16 * 60 * 1000;
    try {
      expect(await failure(() => client().get('fresh.csv'))).toMatchObject({
        status: 403,
        code: 'RequestTimeTooSkewed',
      });
      expect(await failure(() => client({ authorizationV4: true }).get('fresh.csv'))).toMatchObject({
        status: 403,
        code: 'RequestTimeTooSkewed',
      });
      skewMs = -14 * 60 * 1000;
      expect((await client().get('fresh.csv')).res.status).toBe(200);
    } finally {
      skewMs = 0;
    }
  });

  it.each([
    ['V1', false],
    ['V4', true],
  ])('refuses a %s request altered after signing: another key, another header, another body', async (_v, v4) => {
    await client().put('signed.csv', LIST);
    const tamper = (change: (url: string, params: Record<string, unknown>) => [string, Record<string, unknown>]) =>
      client({ authorizationV4: v4, urllib: { request: (url, params) => urllib.request(...change(url, params)) } });

    const otherKey = tamper((url, params) => [url.replace('signed.csv', 'other.csv'), params]);
    expect(await failure(() => otherKey.get('signed.csv'))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });

    const otherHeader = tamper((url, params) => {
      const headers = { ...(params['headers'] as Record<string, string>), 'x-oss-meta-note': 'added' };
      return [url, { ...params, headers }];
    });
    expect(await failure(() => otherHeader.get('signed.csv'))).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });

    const otherBody = tamper((url, params) => [url, { ...params, content: Buffer.from('uid,amount\n666,9999\n') }]);
    expect(await failure(() => otherBody.put('signed.csv', LIST))).toMatchObject({
      status: 400,
      code: 'InvalidDigest',
    });
    expect((await client().get('signed.csv')).content.equals(LIST)).toBe(true);
  });

  it('answers in the OSS XML error shape', async () => {
    const { status, body } = await raw(`${server.url}/${BUCKET}/x.csv`, {
      'x-oss-date': new Date().toUTCString(),
      authorization: `OSS ${KEY.accessKeyId}:AAAAAAAAAAAAAAAAAAAAAAAAAAA=`,
    });
    expect(status).toBe(403);
    expect(body).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>SignatureDoesNotMatch<\/Code><Message>[^<]+<\/Message><RequestId>[0-9A-F]{24}<\/RequestId><HostId>[^<]+<\/HostId><OSSAccessKeyId>LTAIlocaltestkey<\/OSSAccessKeyId>/,
    );
    expect((await raw(`${server.url}/${BUCKET}/x.csv`, {})).body).toContain('<Code>AccessDenied</Code>');
  });

  it('answers an unsatisfiable range with 416 and a missing key with NoSuchKey', async () => {
    const oss = client();
    await oss.put('small.csv', Buffer.from('uid,amount\n'));
    expect(await failure(() => oss.get('small.csv', { headers: { Range: 'bytes=100-200' } }))).toMatchObject({
      status: 416,
      code: 'InvalidRange',
    });
    expect(await failure(() => oss.get('missing.csv'))).toMatchObject({ status: 404, code: 'NoSuchKey' });
  });

  it.each([false, true])('serves the campaign code its list by ranged reads (V4: %s)', async (signatureV4) => {
    const bucket = await openBucket({
      endpoint: server.url,
      region: 'oss-cn-hangzhou',
      bucket: BUCKET,
      ...KEY,
      signatureV4,
    });
    await bucket.put('campaign/list.csv', LIST);
    expect(await bucket.head('campaign/list.csv')).toMatchObject({ size: LIST.length });
    expect((await bucket.getRange('campaign/list.csv', 30, 36)).toString()).toBe('2,100\n');
    await expect(bucket.getRange('campaign/list.csv', 30, 1000)).rejects.toThrow('did not return exactly those bytes');
    const chunks: Buffer[] = [];
    for await (const c of await bucket.getStream('campaign/list.csv')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(LIST)).toBe(true);
  });

  it('holds a 30 MB list and reads a range at its end', async () => {
    const line = '1918000000883,8.88\n';
    const big = Buffer.from(line.repeat(Math.ceil((30 * 1024 * 1024) / line.length)));
    const oss = client();
    await oss.put('big.csv', big);
    const tail = await oss.get('big.csv', {
      headers: { Range: `bytes=${big.length - line.length}-${big.length - 1}` },
    });
    expect(tail.content.toString()).toBe(line);
    expect((await oss.head('big.csv')).res.headers['content-length']).toBe(String(big.length));
  });
});
