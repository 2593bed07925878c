/**
 * JSON Schemas of the three request forms (CONTRACT §3), compiled to standalone validators at build time
 * (`npm run schemas`), so no schema is compiled at cold start. Shared parts are separate schemas referenced
 * with $ref, so their validation code exists once. Rules that need configuration (amount cap, recipient
 * count, decimals, duplicate uids) are checked in `lib/request.ts`; what callers read is in `messages.ts`.
 */
const MAX_SAFE = 9007199254740991;

const id = { $id: 'id', type: ['integer', 'string'], minimum: 1, maximum: MAX_SAFE, pattern: '^[0-9]{1,20}$' };
const amount = { $id: 'amount', type: 'number', exclusiveMinimum: 0 };
const requestId = { $id: 'requestId', type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' };
// A pattern rather than min/maxLength: ajv's length check pulls a CommonJS runtime helper into ESM output.
const text = { $id: 'text', type: 'string', pattern: '^[^\\u0000-\\u001f]{1,64}$' };

const recipients = {
  $id: 'recipients',
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    required: ['uid', 'amount'],
    additionalProperties: false,
    properties: { uid: { $ref: 'id' }, amount: { $ref: 'amount' } },
  },
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

export const schemas = [id, amount, requestId, text, recipients, flatRequestSchema, envelopeRequestSchema];
