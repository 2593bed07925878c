import type { Config } from '../config.js';
import { AppError, invalidRequest, type FieldError } from '../errors.js';
import { quote } from '../redact.js';
import { decodeSendRequest } from '../request/decode.js';
import { CAMPAIGN_ID } from './chunk-operation.js';
import type { CampaignStart } from './start.js';

const SEND_FIELDS = ['SellerId', 'TemplateId', 'FromApp', 'Bid', 'Operator'] as const;
const KNOWN = new Set<string>(['CampaignId', 'Bucket', 'Key', ...SEND_FIELDS]);
const BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A campaign start body (`CampaignId`, `SellerId`, `TemplateId`, `FromApp`, `Bucket`, `Key`, optional `Bid`,
 * `Operator`). The send fields are judged by the very code that judges a send (as a flat request of one
 * placeholder recipient), so SELLER_ID, FROM_APP, the id and text rules and their answers are the same.
 */
export function parseCampaignStart(value: unknown, config: Config): CampaignStart {
  if (!isObject(value)) throw invalidRequest([{ path: '', message: 'must be a JSON object' }]);
  const errors: FieldError[] = [];
  for (const key of Object.keys(value))
    if (!KNOWN.has(key)) errors.push({ path: `/${quote(key)}`, message: 'is not a property of a campaign start' });
  const campaignId = value['CampaignId'];
  if (typeof campaignId !== 'string' || !CAMPAIGN_ID.test(campaignId))
    errors.push({
      path: '/CampaignId',
      message: 'must be 1-48 characters of A-Z a-z 0-9 _ -, starting with a letter or _',
    });
  const bucket = value['Bucket'];
  if (typeof bucket !== 'string' || !BUCKET.test(bucket))
    errors.push({ path: '/Bucket', message: 'must be an OSS bucket name (3-63 of a-z 0-9 -)' });
  const key = value['Key'];
  if (typeof key !== 'string' || key.length === 0 || key.length > 1023 || key.startsWith('/'))
    errors.push({ path: '/Key', message: 'must be an object key of 1-1023 characters, not starting with /' });

  const send: Record<string, unknown> = {
    RequestId: 'campaign-check',
    userAmountModelList: [{ uid: 1, amount: 0.01 }],
  };
  for (const field of SEND_FIELDS) if (field in value) send[field] = value[field];
  let operation;
  try {
    const [item] = decodeSendRequest(send, config, {
      kind: 'required',
    }).items;
    if (item && 'operation' in item) operation = item.operation;
  } catch (err) {
    // 403 (another seller than SELLER_ID) is answered as a send's would be; 400's problems join the others.
    if (!(err instanceof AppError) || err.status !== 400) throw err;
    errors.push(...(err.errors ?? [{ path: '', message: err.message }]));
  }
  if (errors.length > 0 || !operation || typeof campaignId !== 'string') throw invalidRequest(errors);
  const start: CampaignStart = {
    campaignId,
    sellerId: operation.sellerId,
    templateId: operation.templateId,
    fromApp: operation.fromApp,
    bucket: String(bucket),
    key: String(key),
  };
  if (operation.bid) start.bid = operation.bid;
  if (operation.operator !== undefined) start.operator = operation.operator;
  return start;
}
