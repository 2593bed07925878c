import { describe, expect, it } from 'vitest';
import { AppError } from '../../../lib/errors.js';
import { parseJsonExact } from '../../../lib/json.js';
import { decodeSendRequest, type DecodedItem } from '../../../lib/request/decode.js';
import type { RequestLimits } from '../../../lib/request/rules.js';
import { docBatchRequestText, flatRequestText, refusedFlatPatches } from '../../fixtures/requests.js';

const limits: RequestLimits = { maxCouponAmount: 10000, maxRecipients: 100 };
const required = { kind: 'required' } as const;

const flat = (patch: Record<string, string> = {}) => flatRequestText(patch);

function decodeText(text: string, l: RequestLimits = limits) {
  return decodeSendRequest(parseJsonExact(text), l, required);
}

function refusal(text: string): AppError {
  try {
    decodeText(text);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error(`accepted: ${text}`);
}

const only = (items: DecodedItem[]) => {
  const [item] = items;
  if (!item || !('operation' in item)) throw new Error('not an operation');
  return item.operation;
};

describe('exact or refused', () => {
  it.each(refusedFlatPatches)('%s → 400 naming the field, nothing sent', (_name, patch, path) => {
    const err = refusal(flat(patch));
    expect(err).toMatchObject({ status: 400, code: 'InvalidParameter' });
    expect(err.errors?.map((e) => e.path)).toContain(path);
  });

  it.each<[string, Record<string, string>, { uid: string; kind: string; amountText: string }]>([
    ['amount 8.88', { amount: '8.88' }, { uid: '1918000000883', kind: 'number', amountText: '8.88' }],
    ['amount 1e2', { amount: '1e2' }, { uid: '1918000000883', kind: 'number', amountText: '100' }],
    ['amount 100.0', { amount: '100.0' }, { uid: '1918000000883', kind: 'number', amountText: '100' }],
    ['amount 1.50e1', { amount: '1.50e1' }, { uid: '1918000000883', kind: 'number', amountText: '15' }],
    ['amount 0.01', { amount: '0.01' }, { uid: '1918000000883', kind: 'number', amountText: '0.01' }],
    [
      'uid 2^53-1 as a number',
      { uid: '9007199254740991' },
      { uid: '9007199254740991', kind: 'number', amountText: '100' },
    ],
    [
      'a 19-digit string uid',
      { uid: '"9223372036854775807"' },
      { uid: '9223372036854775807', kind: 'string', amountText: '100' },
    ],
  ])('%s passes, sent as canonical text', (_name, patch, expected) => {
    const [r] = only(decodeText(flat(patch)).items).recipients;
    expect({ uid: r?.uid.digits, kind: r?.uid.kind, amountText: r?.amountText }).toEqual(expected);
  });

  it('never quotes a uid in an error', () => {
    const err = refusal(flat({ uid: '191800000088300000000' }));
    expect(JSON.stringify(err.errors)).not.toContain('1918000000883');
  });

  it('quotes at most 64 characters of an unknown property name', () => {
    const err = refusal(flat({ [`x${'y'.repeat(10_000)}`]: '1' }));
    expect(err.errors?.[0]?.message.length).toBeLessThan(100);
  });

  it('refuses another seller with 403, and uses SELLER_ID and FROM_APP when they are omitted', () => {
    const mine = { ...limits, sellerId: '3944837183', fromApp: 'configured' };
    expect(() => decodeSendRequest(parseJsonExact(flat({ SellerId: '1' })), mine, required)).toThrow(
      expect.objectContaining({ status: 403, code: 'Forbidden.SellerMismatch' }),
    );
    const op = only(
      decodeSendRequest({ TemplateId: 1, RequestId: 'r', userAmountModelList: [{ uid: 2, amount: 1 }] }, mine, required)
        .items,
    );
    expect([op.sellerId.digits, op.fromApp]).toEqual(['3944837183', 'configured']);
  });
});

describe('batches, element by element', () => {
  it("decodes the documentation's example", () => {
    const decoded = decodeText(docBatchRequestText);
    expect(decoded.batch).toBe(true);
    expect(only(decoded.items)).toMatchObject({
      requestId: 'dsnjvui9svvsd-14indw',
      bid: { digits: '26842' },
      operator: '12345',
      form: 'envelope',
    });
  });

  it('answers an invalid element in place, labelled with its own ids, and keeps the valid ones', () => {
    const good = {
      fromApp: 'a',
      requestId: 'good',
      param: { sellerId: 1, templateId: 2, userAmountModelList: [{ uid: 3, amount: 1 }] },
    };
    const bad = {
      fromApp: 'a',
      requestId: 'bad',
      param: { sellerId: 1, templateId: 2, userAmountModelList: [{ uid: 3, amount: 1.001 }] },
    };
    const decoded = decodeSendRequest([good, bad, good], limits, required);
    const [first, second, third] = decoded.items;
    expect(first && 'operation' in first).toBe(true);
    expect(second && 'error' in second && second.error).toMatchObject({ status: 400, requestId: 'bad' });
    expect(second && 'error' in second && second.error.errors).toEqual([
      { path: '/1/param/userAmountModelList/0/amount', message: 'must have at most 2 decimal places' },
    ]);
    expect(third && 'error' in third && third.error.errors?.[0]?.message).toContain('repeats the operation of /0');
  });

  it.each([
    ['an empty batch', '[]'],
    ['a batch of 101', JSON.stringify(Array.from({ length: 101 }, () => ({})))],
  ])('refuses %s as a whole', (_name, text) => {
    expect(() => decodeText(text)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('derives an id per element of an event batch that has none', () => {
    const data = [
      { fromApp: 'a', param: { sellerId: 1, templateId: 2, userAmountModelList: [{ uid: 3, amount: 1 }] } },
      { fromApp: 'a', param: { sellerId: 1, templateId: 2, userAmountModelList: [{ uid: 4, amount: 1 }] } },
    ];
    const decoded = decodeSendRequest(data, limits, { kind: 'default', value: 'src:e-9' });
    expect(decoded.items.map((i) => 'operation' in i && i.operation.requestId)).toEqual(['src:e-9:1', 'src:e-9:2']);
  });
});
