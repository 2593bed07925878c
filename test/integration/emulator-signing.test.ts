import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../local/emulator/server.js';
import { signEveryHeader } from '../helpers/acs3-independent.js';

const KEY = { accessKeyId: 'AK-every-header', accessKeySecret: 'every-header-secret' };
let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator(KEY);
});
afterAll(async () => {
  await emulator.close();
});

const body =
  'SellerId=3944837183&TemplateId=295873&RequestId=every-1&FromApp=py&UserAmountModelList.1.Uid=1918000000883&UserAmountModelList.1.Amount=5';

/** The headers Alibaba's Python SDK sends (and signs, every one of them) for SendCoupon. */
const pythonSdkHeaders = (host: string) => ({
  host,
  accept: 'application/json',
  'user-agent': 'AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/1.0 TeaDSL/2 alibabacloud-resellertrade20191227/1.0.0',
  'content-type': 'application/x-www-form-urlencoded',
  'x-acs-action': 'SendCoupon',
  'x-acs-version': '2019-12-27',
  'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  'x-acs-signature-nonce': randomUUID(),
});

describe('the emulator verifies ACS3 over the headers the caller signed', () => {
  it('issues for a request signed over every header, as the Python SDK signs it, and answers x-acs-request-id', async () => {
    const url = new URL(emulator.url);
    const headers = signEveryHeader(body, pythonSdkHeaders(url.host), KEY.accessKeyId, KEY.accessKeySecret);
    const res = await fetch(emulator.url, { method: 'POST', headers, body });
    const answer = (await res.json()) as { Success: boolean; RequestId: string };
    expect(res.status).toBe(200);
    expect(answer.Success).toBe(true);
    expect(res.headers.get('x-acs-request-id')).toBe(answer.RequestId);
    expect(emulator.ledger.list().filter((c) => c.requestId === 'every-1')).toHaveLength(1);
  });

  it.each(['host', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-action'])(
    'refuses one that does not sign %s, and issues nothing',
    async (name) => {
      const url = new URL(emulator.url);
      const all: Record<string, string> = pythonSdkHeaders(url.host);
      const value = all[name] ?? '';
      delete all[name];
      const signed = signEveryHeader(
        body.replace('every-1', `every-${name}`),
        all,
        KEY.accessKeyId,
        KEY.accessKeySecret,
      );
      const res = await fetch(emulator.url, {
        method: 'POST',
        headers: name === 'host' ? signed : { ...signed, [name]: value },
        body: body.replace('every-1', `every-${name}`),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { Code: string }).Code).toBe('IncompleteSignature');
      expect(emulator.ledger.list().filter((c) => c.requestId === `every-${name}`)).toHaveLength(0);
    },
  );
});
