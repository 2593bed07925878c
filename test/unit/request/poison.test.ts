import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../lib/errors.js';
import { parseJsonExact } from '../../../lib/json.js';
import { decodeSendRequest } from '../../../lib/request/decode.js';
import { FieldErrors, MAX_LISTED_ERRORS } from '../../../lib/request/field-errors.js';
import type { RequestLimits } from '../../../lib/request/rules.js';
import { decodeEvents } from '../../../lib/triggers/event.js';
import { MAX_JSON_VALUES } from '../../../lib/triggers/parse.js';
import { decodeTimer } from '../../../lib/triggers/timer.js';
import { flatRequestText } from '../../fixtures/requests.js';

const required = { kind: 'required' } as const;
const limits: RequestLimits = { maxCouponAmount: 500, maxRecipients: 100_000 };

const zeros = (n: number) => `[${Array<string>(n).fill('0').join(',')}]`;
const flatWithList = (list: string) =>
  `{"SellerId":3944837183,"TemplateId":295873,"RequestId":"poison-1","FromApp":"poison","userAmountModelList":${list}}`;

function refusal(run: () => unknown): AppError {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('a request with more problems than an answer should list', () => {
  it('refuses 125,000 zeros (250 KB) for their number alone when MAX_RECIPIENTS is lower', () => {
    const text = flatWithList(zeros(125_000));
    expect(Buffer.byteLength(text)).toBeLessThan(256 * 1024);
    const err = refusal(() => decodeSendRequest(parseJsonExact(text), { ...limits, maxRecipients: 10_000 }, required));
    expect(err).toMatchObject({ status: 400, code: 'InvalidParameter', requestId: 'poison-1' });
    expect(err.errors).toEqual([
      {
        path: '/userAmountModelList',
        message: 'must have at most 10000 entries (MAX_RECIPIENTS); it has 125000, none of them checked',
      },
    ]);
  });

  it('lists the first 100 of 100,000 bad entries and says how many more there are', () => {
    const err = refusal(() => decodeSendRequest(parseJsonExact(flatWithList(zeros(100_000))), limits, required));
    expect(err.message).toBe('The request is invalid: 100000 problems, the first 100 are listed in errors.');
    expect(err.errors).toHaveLength(MAX_LISTED_ERRORS + 1);
    expect(err.errors?.[0]).toEqual({ path: '/userAmountModelList/0', message: 'must be an object {"uid", "amount"}' });
    expect(err.errors?.[99]?.path).toBe('/userAmountModelList/99');
    expect(err.errors?.at(-1)).toEqual({
      path: '',
      message: '99900 more problems are not listed (only the first 100 are)',
    });
  });

  it('counts 200,000 unknown properties without validating them one by one', () => {
    const keys = Array.from({ length: 200_000 }, (_, i) => `"k${i}":1`).join(',');
    const text = `{"TemplateId":1,"SellerId":1,"RequestId":"r","FromApp":"a","userAmountModelList":[{"uid":1,"amount":1}],${keys}}`;
    const err = refusal(() => decodeSendRequest(parseJsonExact(text), limits, required));
    expect(err.message).toContain('200000 problems');
    expect(err.errors?.[0]).toEqual({ path: '/k0', message: 'unknown property "k0"' });
    expect(err.errors?.at(-1)?.message).toContain('199900 more problems');
  });

  it('counts unreadable numbers past the cap once each, without ajv repeating them', () => {
    const list = `[${Array.from({ length: 300 }, (_, i) => `{"uid":${i + 1},"amount":1e-9}`).join(',')}]`;
    const err = refusal(() => decodeSendRequest(parseJsonExact(flatWithList(list)), limits, required));
    expect(err.message).toContain(' 300 problems');
    expect(err.errors?.[0]).toEqual({
      path: '/userAmountModelList/0/amount',
      message: 'must have at most 2 decimal places',
    });
  });

  it('names a batch element by its index in the closing entry', () => {
    const envelope = `{"fromApp":"a","requestId":"b-1","param":{"sellerId":1,"templateId":2,"userAmountModelList":${zeros(150)}}}`;
    const good = `{"fromApp":"a","requestId":"b-2","param":{"sellerId":1,"templateId":2,"userAmountModelList":[{"uid":1,"amount":1}]}}`;
    const decoded = decodeSendRequest(parseJsonExact(`[${good},${envelope}]`), limits, required);
    const [first, second] = decoded.items;
    expect(first && 'operation' in first).toBe(true);
    if (!second || !('error' in second)) throw new Error('the poison element was accepted');
    expect(second.error.errors?.at(-1)).toEqual({
      path: '/1',
      message: '50 more problems are not listed (only the first 100 are)',
    });
  });

  it('FieldErrors lists up to the cap and counts the rest', () => {
    const errors = new FieldErrors('/4');
    for (let i = 0; i < 102; i++) errors.add(`/4/x/${i}`, 'bad');
    errors.addUnlisted(3);
    expect(errors.count).toBe(105);
    expect(errors.toList()).toHaveLength(101);
    expect(errors.toList().at(-1)).toEqual({
      path: '/4',
      message: '5 more problems are not listed (only the first 100 are)',
    });
  });
});

describe('payloads with more JSON values than any request needs', () => {
  const over = Buffer.from(`[${Buffer.alloc(MAX_JSON_VALUES * 2 + 1, '0,').toString()}0]`);

  it('an event payload is answered 413 without being parsed', () => {
    const [d] = decodeEvents(over);
    expect(d && 'refused' in d ? d.refused : undefined).toMatchObject({ status: 413, code: 'PayloadTooLarge' });
  });

  it('a timer envelope is answered 413 without being parsed', () => {
    const d = decodeTimer(over);
    expect('refused' in d ? d.refused : undefined).toMatchObject({ status: 413, code: 'PayloadTooLarge' });
  });

  it('commas inside strings are not values', () => {
    const text = JSON.stringify({
      specversion: '1.0',
      id: 'e',
      source: 's',
      data: { note: ','.repeat(MAX_JSON_VALUES + 5) },
    });
    const [d] = decodeEvents(Buffer.from(text));
    expect(d && 'value' in d).toBe(true);
  });
});

describe('the amount boundary', () => {
  it.each<[string, string, boolean]>([
    ['exactly MAX_COUPON_AMOUNT', '500', true],
    ['exactly MAX_COUPON_AMOUNT written 500.00', '500.00', true],
    ['one cent more', '500.01', false],
  ])('%s', (_name, amount, accepted) => {
    const run = () => decodeSendRequest(parseJsonExact(flatRequestText({ amount })), limits, required);
    if (accepted) {
      const [item] = run().items;
      expect(item && 'operation' in item ? item.operation.recipients[0]?.amountText : undefined).toBe('500');
    } else {
      expect(refusal(run).errors).toEqual([
        { path: '/userAmountModelList/0/amount', message: 'must be at most 500 (MAX_COUPON_AMOUNT)' },
      ]);
    }
  });
});

/** Entries a hostile caller might put in a recipient list, the parser's placeholders included. */
const hostileEntry = fc.oneof(
  fc.constant(0),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom('1e999', '1e-9', '19180000008831234', '1.005').map((t) => parseJsonExact(t)),
  fc.record({
    uid: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.string()),
    amount: fc.oneof(fc.integer(), fc.double()),
  }),
  fc.dictionary(fc.string(), fc.anything(), { maxKeys: 5 }),
  fc.anything(),
);

describe('hostile recipient lists never throw anything but a 400 listing at most 101 entries', () => {
  it('flat requests', () => {
    fc.assert(
      fc.property(
        fc.array(hostileEntry, { maxLength: 400 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 3 }),
        (list, maxRecipients, copies) => {
          const entries = list.flatMap((e) => Array<unknown>(copies + 1).fill(e));
          const value = { SellerId: 1, TemplateId: 2, RequestId: 'p', FromApp: 'a', userAmountModelList: entries };
          try {
            decodeSendRequest(value, { maxCouponAmount: 500, maxRecipients }, required);
          } catch (err) {
            expect(err).toBeInstanceOf(AppError);
            const e = err as AppError;
            expect([400, 403]).toContain(e.status);
            expect((e.errors ?? []).length).toBeLessThanOrEqual(MAX_LISTED_ERRORS + 1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('batches of envelopes', () => {
    fc.assert(
      fc.property(fc.array(fc.array(hostileEntry, { maxLength: 200 }), { minLength: 1, maxLength: 5 }), (lists) => {
        const batch = lists.map((userAmountModelList, i) => ({
          fromApp: 'a',
          requestId: `p-${i}`,
          param: { sellerId: 1, templateId: 2, userAmountModelList },
        }));
        const decoded = decodeSendRequest(batch, limits, required);
        expect(decoded.items).toHaveLength(lists.length);
        for (const item of decoded.items) {
          if ('error' in item) expect((item.error.errors ?? []).length).toBeLessThanOrEqual(MAX_LISTED_ERRORS + 1);
        }
      }),
      { numRuns: 200 },
    );
  });
});
