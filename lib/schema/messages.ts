/** What a caller reads for a type or range failure, by the name of the property that failed. */
const ID =
  'must be a positive integer (at most 2^53-1) or a string of digits without leading zeros, from 1 to 9223372036854775807';
const TEXT = 'must be a string of 1-64 characters without control characters, U+2028/U+2029 or lone surrogates';

const byProperty: Record<string, string> = {
  SellerId: ID,
  sellerId: ID,
  TemplateId: ID,
  templateId: ID,
  Bid: ID,
  bid: ID,
  uid: ID,
  amount: 'must be a number greater than 0 (a JSON number, not a string)',
  RequestId: 'must be 1-64 characters of A-Z a-z 0-9 - _ . :',
  requestId: 'must be 1-64 characters of A-Z a-z 0-9 - _ . :',
  FromApp: TEXT,
  fromApp: TEXT,
  Operator: TEXT,
  operator: TEXT,
  userAmountModelList: 'must be a non-empty array of {"uid", "amount"}',
  param: 'must be an object',
};

/** `instancePath` is a JSON pointer; `inBatch` says whether its first segment is a batch index. */
export function messageFor(instancePath: string, inBatch: boolean): string | undefined {
  const segments = instancePath.split('/').slice(1);
  const last = segments.at(-1);
  if (last === undefined || (inBatch && segments.length === 1))
    return inBatch ? 'must be an object {"fromApp", "requestId", "param"}' : 'must be a JSON object';
  if (/^\d+$/.test(last) && segments.at(-2) === 'userAmountModelList') return 'must be an object {"uid", "amount"}';
  return byProperty[last];
}
