import { describe, expect, it } from 'vitest';
import { chunkResultsJsonl, chunkResultsKey } from '../../../lib/campaigns/results.js';
import type { Operation } from '../../../lib/operation.js';

const op: Operation = {
  sellerId: { digits: '1', kind: 'number' },
  templateId: { digits: '2', kind: 'number' },
  requestId: 'spring:1',
  fromApp: 'campaigns',
  form: 'flat',
  recipients: [
    { uid: { digits: '9223372036854775807', kind: 'string' }, amount: 8.88, amountText: '8.88' },
    { uid: { digits: '1918000000883', kind: 'string' }, amount: 100, amountText: '100' },
    { uid: { digits: '1918000000884', kind: 'string' }, amount: 1, amountText: '1' },
  ],
};

describe('chunk results', () => {
  it('are one JSONL line per recipient, in order, ids as exact digit strings', () => {
    const text = chunkResultsJsonl(op, [
      { status: 'SENT', youhuiId: { text: '90071992547409930', kind: 'number' } },
      { status: 'FAILED', code: 'InvalidUser', message: 'no such user' },
      { status: 'UNKNOWN', code: 'Upstream.Timeout' },
    ]).toString();
    expect(text.split('\n')).toEqual([
      '{"uid":"9223372036854775807","amount":"8.88","status":"SENT","youhuiId":"90071992547409930"}',
      '{"uid":"1918000000883","amount":"100","status":"FAILED","code":"InvalidUser","message":"no such user"}',
      '{"uid":"1918000000884","amount":"1","status":"UNKNOWN","code":"Upstream.Timeout"}',
      '',
    ]);
  });

  it('refuse results that do not match the recipients one to one', () => {
    expect(() => chunkResultsJsonl(op, [{ status: 'SENT' }])).toThrow('1 results for 3 recipients');
  });

  it('live under a deterministic key per chunk, so a retry overwrites its own file', () => {
    expect(chunkResultsKey('campaigns', 'spring', 7)).toBe('campaigns/spring/results/000007.jsonl');
    expect(chunkResultsKey('campaigns/', 'spring', 7)).toBe('campaigns/spring/results/000007.jsonl');
  });
});
