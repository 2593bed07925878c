/**
 * JSON Schemas of the three request forms (docs/requests.md), compiled to standalone validators at build time
 * (`npm run schemas`), so no schema is compiled at cold start. Shared parts are separate schemas referenced
 * with $ref, so their validation code exists once. Rules that need configuration (amount cap, recipient
 * count, decimals, duplicate uids) are checked in `lib/request/`; what callers read is in `messages.ts`.
 */
const MAX_SAFE = 9007199254740991;

// Strings: canonical digits only (no leading zeros, no "0"); the 64-bit Long bound is checked in request/rules.ts.
const id = { $id: 'id', type: ['integer', 'string'], minimum: 1, maximum: MAX_SAFE, pattern: '^[1-9][0-9]{0,18}$' };
const amount = { $id: 'amount', type: 'number', exclusiveMinimum: 0 };
const requestId = { $id: 'requestId', type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' };
/**
 * 1-64 characters, none of them a control character (Unicode Cc, which includes U+0085), U+2028/U+2029 or a lone
 * surrogate (the validators match with the `u` flag, so a surrogate pair is one character and never matches).
 * A pattern rather than min/maxLength: ajv's length check pulls a CommonJS runtime helper into ESM output.
 */
export const TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\ud800-\\udfff]{1,64}$';
const text = { $id: 'text', type: 'string', pattern: TEXT_PATTERN };

/**
 * The list itself; its entries are checked one by one against `recipient` (lib/request/decode.ts), so a hostile
 * list is judged with bounded memory and refused for its length before any entry is looked at.
 */
const recipients = { $id: 'recipients', type: 'array', minItems: 1 };

export const recipientSchema = {
  $id: 'recipient',
  type: 'object',
  required: ['uid', 'amount'],
  additionalProperties: false,
  properties: { uid: { $ref: 'id' }, amount: { $ref: 'amount' } },
};

export const flatRequestSchema = {
  $id: 'flat',
  type: 'object',
  required: ['TemplateId', 'userAmountModelList'],
  additionalProperties: false,
  properties: {
    SellerId: { $ref: 'id' },
    TemplateId: { $ref: 'id' },
    userAmountModelList: { $ref: 'recipients' },
    RequestId: { $ref: 'requestId' },
    FromApp: { $ref: 'text' },
    Bid: { $ref: 'id' },
    Operator: { $ref: 'text' },
  },
};

export const envelopeRequestSchema = {
  $id: 'envelope',
  type: 'object',
  required: ['param'],
  additionalProperties: false,
  properties: {
    fromApp: { $ref: 'text' },
    requestId: { $ref: 'requestId' },
    param: {
      type: 'object',
      required: ['templateId', 'userAmountModelList'],
      additionalProperties: false,
      properties: {
        sellerId: { $ref: 'id' },
        templateId: { $ref: 'id' },
        userAmountModelList: { $ref: 'recipients' },
        bid: { $ref: 'id' },
        operator: { $ref: 'text' },
      },
    },
  },
};

export const schemas = [
  id,
  amount,
  requestId,
  text,
  recipients,
  recipientSchema,
  flatRequestSchema,
  envelopeRequestSchema,
];
