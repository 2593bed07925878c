/**
 * What a store keeps per operation. The answer is not stored: it is derived from the chunk records, which are
 * the durable truth of what was sent, so a replay can never disagree with the ledger of sends.
 */
export type ChunkState = 'SENDING' | 'SENT' | 'FAILED' | 'UNKNOWN' | 'PENDING';

export interface ChunkRecord {
  state: ChunkState;
  upstreamRequestId: string;
  code?: string;
  message?: string;
  /** For SENT: per recipient of the chunk, the coupon id, "" when the answer named none, null when unconfirmed. */
  youhuiIds?: Array<string | null>;
  at: number;
}

export type RecordStatus = 'IN_PROGRESS' | 'COMPLETED';

export interface IdempotencyRecord {
  status: RecordStatus;
  hash: string;
  owner: string;
  leaseUntil: number;
  /** Recipients per chunk when the record was created: chunk numbers mean this, whatever CHUNK_SIZE is now. */
  chunkSize: number;
  chunks: Record<number, ChunkRecord>;
}

export interface ClaimRequest {
  hash: string;
  chunkSize: number;
  owner: string;
  leaseUntil: number;
  now: number;
  ttlMs: number;
}

/**
 * The primitives a store implements; every rule about them lives in core.ts. Each call is one atomic step:
 * `claim` creates the record, or takes over an IN_PROGRESS one with the same hash whose lease has run out;
 * `putChunk` and `finish` act only while `owner` still holds the record.
 */
export interface IdempotencyStore {
  claim(key: string, request: ClaimRequest): Promise<{ acquired: boolean; record: IdempotencyRecord }>;
  putChunk(key: string, owner: string, chunk: number, record: ChunkRecord): Promise<boolean>;
  finish(key: string, owner: string, completed: boolean, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Any failure to read or write the store: the caller must not send. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}
