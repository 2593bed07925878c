/*
 * coupon-ops's mapping between FC's HTTP event and the page, in process on the memory store: the origin the
 * reconcile form must come from, the query FC passes as queryParameters, and events it cannot read.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../lib/errors.js';
import { deployedOperationsPage, originOf } from '../../../lib/ui/deployed.js';

const view = (headers: Record<string, string>) => ({ method: 'POST', path: '/__ui', headers, body: Buffer.alloc(0) });

const event = (path: string, over: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      version: 'v1',
      rawPath: path,
      body: '',
      isBase64Encoded: false,
      headers: { Host: 'ops.cn-hangzhou.fcapp.run' },
      queryParameters: {},
      requestContext: { requestId: '1-unit', http: { method: 'GET', path } },
      ...over,
    }),
  );

describe('originOf', () => {
  it.each([
    [{ host: 'ops.cn-hangzhou.fcapp.run' }, 'https://ops.cn-hangzhou.fcapp.run'],
    [{ host: '127.0.0.1:9000', 'x-forwarded-proto': 'http' }, 'http://127.0.0.1:9000'],
    [{ host: 'ops.fcapp.run', 'x-forwarded-proto': 'gopher' }, 'https://ops.fcapp.run'],
    [{}, ''],
    [{ host: 'evil.test/@ops.fcapp.run' }, ''],
    [{ host: 'a b' }, ''],
  ])('%o is %s', (headers, origin) => {
    expect(originOf(view(headers))).toBe(origin);
  });
});

describe('the deployed page on FC events', () => {
  const page = deployedOperationsPage({ LOG_LEVEL: 'error' });
  const context = { requestId: '1-unit', credentials: {} };

  it('passes queryParameters to the page as its query', async () => {
    const bad = await page.answer(event('/__ui', { queryParameters: { state: 'LOST' } }), context);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('state must be one of');
    const good = await page.answer(event('/__ui', { queryParameters: { state: 'UNKNOWN' } }), context);
    expect(good.statusCode).toBe(200);
    expect(good.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('answers only /__ui, and refuses an event it cannot read naming the field', async () => {
    expect((await page.answer(event('/coupons'), context)).statusCode).toBe(404);
    expect((await page.answer(event('/__uix'), context)).statusCode).toBe(404);
    await expect(page.answer(event('/__ui', { queryParameters: ['state'] }), context)).rejects.toThrow(
      /queryParameters must be an object/,
    );
    await expect(page.answer(Buffer.from('{"version":"v1"}'), context)).rejects.toBeInstanceOf(AppError);
    await expect(page.answer({ not: 'bytes' }, context)).rejects.toBeInstanceOf(AppError);
  });
});
