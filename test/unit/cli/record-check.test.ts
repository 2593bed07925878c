import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRecord, checkRedisHash } from '../../../cli/record-check.js';

const op = { sellerId: '1', templateId: '2', fromApp: 'app', requestId: 'r', recipients: [['7', '1.5']] };
const good = {
  status: 'COMPLETED',
  leaseUntil: 0,
  chunkSize: 1,
  op,
  chunks: {
    1: { state: 'SENT', upstreamRequestId: 'r', at: 5, confirmed: [{ youhuiId: { text: '9', kind: 'number' } }] },
  },
};

describe('checkRecord', () => {
  it('accepts a record as the store writes it, extra fields included', () => {
    expect(checkRecord({ ...good, owner: 'x', hash: 'h', somethingNew: 1 })).toMatchObject({ ok: true });
  });

  it.each([
    ['chunkSize 0', { chunkSize: 0 }, 'chunkSize must be a whole number >= 1 (got 0)'],
    ['chunkSize 1.5', { chunkSize: 1.5 }, 'chunkSize must be a whole number >= 1 (got 1.5)'],
    [
      'recipients "x"',
      { op: { ...op, recipients: 'x' } },
      'op.recipients must be a non-empty list of [uid, amount] (got "x")',
    ],
    [
      'no recipients',
      { op: { ...op, recipients: [] } },
      'op.recipients must be a non-empty list of [uid, amount] (got a list)',
    ],
    [
      'a recipient that is not a pair',
      { op: { ...op, recipients: [['7']] } },
      'op.recipients[0] must be [uid digits, amount] (got a list)',
    ],
    ['a seller that is not digits', { op: { ...op, sellerId: 'x' } }, 'op.sellerId must be digits (got "x")'],
    ['no op', { op: undefined }, 'op is missing (a record written before operations were kept with their records)'],
    ['leaseUntil text', { leaseUntil: 'soon' }, 'leaseUntil must be a time in ms (got "soon")'],
    ['chunks a list', { chunks: [] }, 'chunks must be an object (got a list)'],
    [
      'a chunk beyond the operation',
      { chunks: { 2: good.chunks[1] } },
      'chunk "2" is not a chunk of this operation (it has 1)',
    ],
    [
      'a chunk with no time',
      { chunks: { 1: { state: 'SENT', upstreamRequestId: 'r' } } },
      'c:1.at must be a time in ms (got undefined)',
    ],
    [
      'a finding that is not one',
      { chunks: { 1: { state: 'UNKNOWN', upstreamRequestId: 'r', at: 1, reconciled: [{ issued: 'yes' }] } } },
      'c:1.reconciled holds an entry that is not a finding',
    ],
  ])('names the problem with %s', (_name, patch, problem) => {
    const checked = checkRecord({ ...good, ...patch });
    expect(checked.ok).toBe(false);
    expect(checked.ok ? [] : checked.problems).toContain(problem);
  });

  it('keeps what a malformed record says about its operation, to tell the one asked for', () => {
    expect(checkRecord({ ...good, chunkSize: 0 })).toMatchObject({
      ok: false,
      identity: { requestId: 'r', sellerId: '1', fromApp: 'app' },
    });
  });
});

describe('checkRedisHash', () => {
  const hash = (fields: Record<string, string>) => Object.entries(fields).flat();
  const base = {
    status: 'COMPLETED',
    leaseUntil: '0',
    chunkSize: '1',
    op: JSON.stringify(op),
    'c:1': JSON.stringify(good.chunks[1]),
  };

  it('reads a hash as the store writes it', () => {
    expect(checkRedisHash(hash(base))).toMatchObject({ ok: true, record: { chunkSize: 1, op } });
  });

  it('names a field that is not JSON, and still says which operation it is when op reads', () => {
    expect(checkRedisHash(hash({ ...base, 'c:1': '{nope' }))).toEqual({
      ok: false,
      problems: ['c:1 is not JSON (starts "{nope")'],
      identity: { requestId: 'r', sellerId: '1', fromApp: 'app' },
    });
  });

  it('never throws, whatever the hash holds', () => {
    const field = fc.oneof(
      fc.constantFrom('status', 'leaseUntil', 'chunkSize', 'op', 'c:1', 'c:0', 'c:x'),
      fc.string(),
    );
    const value = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(field, value), { maxLength: 12 }), (pairs) => {
        const checked = checkRedisHash(pairs.flat());
        expect(typeof checked.ok).toBe('boolean');
        if (!checked.ok) expect(checked.problems.length).toBeGreaterThan(0);
      }),
    );
  });

  it('never throws on any parsed value either', () => {
    fc.assert(fc.property(fc.anything(), (v) => void checkRecord(v)));
  });
});
