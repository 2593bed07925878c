import type { ExactId, Operation } from '../operation.js';
import { REQUEST_ID } from '../request/request-id.js';
import type { Bucket } from './bucket.js';
import { readChunk, type ChunkPlan } from './chunk.js';
import type { ListFormat } from './line-rules.js';

/**
 * A CampaignId: 1-48 characters of A-Z a-z 0-9 _ -, starting with a letter or _ as FC task ids must: the
 * characters both derived ids allow, short enough that `<CampaignId>:<n>` stays a valid RequestId (≤ 64) and
 * `<CampaignId>-c<n>` a valid FC stateful task id.
 */
export const CAMPAIGN_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,47}$/;

/** The operation of chunk n: an ordinary RequestId, so the exactly-once path and the replay work unchanged. */
export const chunkRequestId = (campaignId: string, n: number): string => `${campaignId}:${n}`;

/** FC's stateful async task id of chunk n: a second submission of the same chunk is refused by FC (409). */
export const chunkTaskId = (campaignId: string, n: number): string => `${campaignId}-c${n}`;

/** What every chunk of one campaign shares. */
export interface CampaignParams {
  campaignId: string;
  sellerId: ExactId;
  templateId: ExactId;
  fromApp: string;
  bid?: ExactId;
  operator?: string;
  bucket: string;
  key: string;
  format: ListFormat;
}

/** The payload of a chunk's asynchronous invocation: a pointer and a byte range, never the recipients. */
export interface ChunkTask {
  campaign: CampaignParams;
  chunk: ChunkPlan;
}

export interface ChunkLimits {
  maxCouponAmount: number;
  maxRecipients: number;
}

export class ChunkTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkTaskError';
  }
}

/**
 * The chunk's bytes as an Operation ready for the exactly-once executor. The recipients are re-judged and must be
 * exactly the planned ones (readChunk refuses anything else), so a changed list or config sends nothing.
 */
export function chunkOperation(task: ChunkTask, bytes: Buffer, limits: ChunkLimits): Operation {
  const { campaign, chunk } = task;
  if (!CAMPAIGN_ID.test(campaign.campaignId))
    throw new ChunkTaskError('CampaignId must be 1-48 characters of A-Z a-z 0-9 _ -, starting with a letter or _');
  const requestId = chunkRequestId(campaign.campaignId, chunk.n);
  if (!REQUEST_ID.test(requestId)) throw new ChunkTaskError(`chunk ${chunk.n} has no valid RequestId`);
  if (chunk.recipients > limits.maxRecipients)
    throw new ChunkTaskError(
      `chunk ${chunk.n} holds ${chunk.recipients} recipients; MAX_RECIPIENTS is ${limits.maxRecipients}`,
    );
  const recipients = readChunk(bytes, chunk, campaign.format, limits.maxCouponAmount);
  const operation: Operation = {
    sellerId: campaign.sellerId,
    templateId: campaign.templateId,
    requestId,
    fromApp: campaign.fromApp,
    recipients,
    form: 'flat',
  };
  if (campaign.bid) operation.bid = campaign.bid;
  if (campaign.operator !== undefined) operation.operator = campaign.operator;
  return operation;
}

/** Reads the chunk's byte range from the bucket (a ranged GET) and builds its Operation. */
export async function loadChunkOperation(bucket: Bucket, task: ChunkTask, limits: ChunkLimits): Promise<Operation> {
  const bytes = await bucket.getRange(task.campaign.key, task.chunk.start, task.chunk.end);
  return chunkOperation(task, bytes, limits);
}
