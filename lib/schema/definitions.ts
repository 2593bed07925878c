/**
 * JSON Schemas of the three request forms (CONTRACT §3). They are compiled to standalone validators at build
 * time (`npm run schemas`), so no schema is compiled at cold start. `xMessage` is the sentence a caller sees
 * for any type or range failure of that property; rules that need configuration (amount cap, recipient
 * count, decimals, duplicate uids) are checked in `lib/request.ts`.
 */
const MAX_SAFE = 9007199254740991;

const exactId = (what: string) => ({
  type: ['integer', 'string'],
  minimum: 1,
  maximum: MAX_SAFE,
  pattern: '^[0-9]{1,20}$',
  xMessage: `${what} must be a positive integer (at most 2^53-1) or a string of 1-20 decimal digits`,
});

const requestId = {
  type: 'string',
  pattern: '^[A-Za-z0-9._:-]{1,64}$',
  xMessage: 'must be 1-64 characters of A-Z a-z 0-9 - _ . :',
};

// A pattern rather than min/maxLength: ajv's length check pulls a CommonJS runtime helper into ESM output.
const shortText = { type: 'string', pattern: '^[^\\u0000-\\u001f]{1,64}$', xMessage: 'must be a string of 1-64 characters without control characters' };
const fromApp = shortText;
const operator = shortText;
const amount = { type: 'number', exclusiveMinimum: 0, xMessage: 'must be a number greater than 0 (a JSON number, not a string)' };

const recipients = {
  type: 'array',
  minItems: 1,
  xMessage: 'must be a non-empty array of {"uid", "amount"}',
  items: {
    type: 'object',
    xMessage: 'must be an object {"uid", "amount"}',
    required: ['uid', 'amount'],
    additionalProperties: false,
    properties: { uid: exactId('uid'), amount },
  },
};

export const flatRequestSchema = {
  $id: 'flat',
  type: 'object',
  xMessage: 'must be a JSON object',
  required: ['TemplateId', 'userAmountModelList'],
  additionalProperties: false,
  properties: {
    SellerId: exactId('SellerId'),
    TemplateId: exactId('TemplateId'),
    userAmountModelList: recipients,
    RequestId: requestId,
    FromApp: fromApp,
    Bid: exactId('Bid'),
    Operator: operator,
  },
} as const;

export const envelopeRequestSchema = {
  $id: 'envelope',
  type: 'object',
  xMessage: 'must be a JSON object',
  required: ['param'],
  additionalProperties: false,
  properties: {
    fromApp,
    requestId,
    param: {
      type: 'object',
      xMessage: 'must be an object',
      required: ['templateId', 'userAmountModelList'],
      additionalProperties: false,
      properties: {
        sellerId: exactId('sellerId'),
        templateId: exactId('templateId'),
        userAmountModelList: recipients,
        bid: exactId('bid'),
        operator,
      },
    },
  },
} as const;

export const schemas = { flat: flatRequestSchema, envelope: envelopeRequestSchema };
