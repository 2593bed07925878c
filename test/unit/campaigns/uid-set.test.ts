import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UidSet } from '../../../lib/campaigns/uid-set.js';

const uid = fc.oneof(
  fc.integer({ min: 1, max: 50 }).map(String),
  fc.bigInt({ min: 1n, max: 9223372036854775807n }).map(String),
  fc.constantFrom('999999999', '1000000000', '1000000001', '4000000000', '4000000000000000000', '9223372036854775807'),
);

describe('the uid set', () => {
  it('behaves as a set of uid strings, answering the first line of a repeat, across growth', () => {
    fc.assert(
      fc.property(fc.array(uid, { maxLength: 400 }), (uids) => {
        const set = new UidSet(4);
        const model = new Map<string, number>();
        uids.forEach((u, i) => {
          expect(set.addOrFirstLine(u, i + 1)).toBe(model.get(u));
          if (!model.has(u)) model.set(u, i + 1);
        });
        expect(set.size).toBe(model.size);
      }),
      { numRuns: 300 },
    );
  });

  it('tells apart uids that share their last nine digits or their leading digits', () => {
    const set = new UidSet(4);
    const uids = [
      '1000000000',
      '2000000000',
      '3000000000',
      '4000000000',
      '5000000000',
      '123',
      '1000000123',
      '4000000123',
    ];
    for (const [i, u] of uids.entries()) expect(set.addOrFirstLine(u, i + 1)).toBeUndefined();
    for (const [i, u] of uids.entries()) expect(set.addOrFirstLine(u, 99)).toBe(i + 1);
  });
});
