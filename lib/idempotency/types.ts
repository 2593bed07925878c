import type { CouponId } from '../operation.js';

/**
 * What a store keeps per operation. The answer is not stored: it is derived from the chunk records, which are
 * the durable truth of what was sent, so a replay can never disagree with the ledger of sends.
 */
export type ChunkState = 'SENDING' | 'SENT' | 'FAILED' | 'UNKNOWN' | 'PENDING';

/** One recipient of a SENT chunk that the upstream's answer named, with its coupon id when it gave one. */
export interface Confirmation {
  youhuiId?: CouponId;
}

export interface ChunkRecord {
  state: ChunkState;
  upstreamRequestId: string;
  code?: string;
  message?: string;
  /** For SENT: per recipient of the chunk, its confirmation, or null when the answer did not name it. */
  confirmed?: Array<Confirmation | null>;
  /**
   * Set by `coupon reconcile` for a chunk whose outcome was UNKNOWN: per recipient, what GetCouponPage proved
   * (issued, with the coupon attributed to it, or never issued), or null while it is still unknown.
   */
  reconciled?: Array<Reconciled | null>;
  at: number;
}

/** `resentAs`: the RequestId `coupon reconcile --resend` sent a never-issued recipient again under. */
export type Reconciled = { issued: true; youhuiId: CouponId } | { issued: false; resentAs?: string };

/** What the operation was, kept with its record so that it can be inspected and reconciled later. */
export interface OperationSummary {
  sellerId: string;
  templateId: string;
  fromApp: string;
  requestId: string;
  /** `[uid, amount]` in request order; chunk n holds entries (n-1)·chunkSize … n·chunkSize−1. */
  recipients: Array<[string, string]>;
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
  /** Absent only in records written before operations were kept with them. */
  op?: OperationSummary;
  /** When the record was first claimed (ms); absent in records written before the store kept indexes. */
  createdAt?: number;
}

/**
 * What `listRecent` filters on: a record's status, or UNKNOWN for the records holding at least one chunk whose
 * outcome was UNKNOWN (whether or not reconcile has settled its recipients since).
 */
export type ListState = RecordStatus | 'UNKNOWN';

/** Where a page of `listRecent` ended: the next page starts after this entry (newest first). */
export interface ListCursor {
  at: number;
  /** The index entry: the record's RequestId and key, so that entries created in the same ms stay in order. */
  entry: string;
}

export interface ListQuery {
  state?: ListState;
  /** Only operations whose RequestId starts with this (the whole RequestId for one operation). */
  requestIdPrefix?: string;
  limit: number;
  before?: ListCursor;
}

export interface ListedRecord {
  key: string;
  record: IdempotencyRecord;
}

export interface ListPage {
  records: ListedRecord[];
  /** Present when there may be more: pass it as `before` for the next page. */
  next?: ListCursor;
}

/** The most index entries one `listRecent` call looks at when it filters by RequestId prefix. */
export const MAX_PREFIX_MATCHES = 1000;

/** The index entry of a record: its RequestId, a NUL, its key (a RequestId never holds a NUL; a key is hex). */
export const indexEntry = (requestId: string, key: string): string => `${requestId}\u0000${key}`;

export interface ClaimRequest {
  hash: string;
  chunkSize: number;
  op: OperationSummary;
  owner: string;
  leaseUntil: number;
  now: number;
  /** The record must live at least this much longer (never less than the lease plus its margin). */
  keepForMs: number;
}

/** A write by the owner also moves its lease forward (never back) and keeps the record at least this long. */
export interface LeaseRenewal {
  leaseUntil: number;
  keepForMs: number;
  /**
   * The write settles the last chunk owed: the record completes in the same atomic step and is kept this long
   * from now (one round trip fewer than a separate finish).
   */
  completeTtlMs?: number;
}

/**
 * The primitives a store implements; every rule about them lives in claim.ts and operation-claim.ts. Each call
 * is one atomic step: `claim` creates the record, or takes over an IN_PROGRESS one with the same hash whose
 * lease has run out; `putChunk` and `finish` act only while `owner` still holds the record.
 */
export interface IdempotencyStore {
  claim(key: string, request: ClaimRequest): Promise<{ acquired: boolean; record: IdempotencyRecord }>;
  putChunk(key: string, owner: string, chunk: number, record: ChunkRecord, renewal: LeaseRenewal): Promise<boolean>;
  /** Completed: the record is kept `ttlMs` from now. Released: the lease ends at once, for the next delivery. */
  finish(key: string, owner: string, completed: boolean, ttlMs: number): Promise<boolean>;
  get(key: string): Promise<IdempotencyRecord | undefined>;
  /** Every live record, for inspection and reconciliation (never on a delivery's path). */
  list(): AsyncIterable<{ key: string; record: IdempotencyRecord }>;
  /**
   * Records newest first from the store's own indexes (by creation time, by state, by RequestId), never a scan
   * of every key. Index entries whose record has expired are dropped on the way.
   */
  listRecent(query: ListQuery): Promise<ListPage>;
  /**
   * Writes `record` whole, kept `keepForMs`, only where there is none (it vanished under a running delivery: a
   * FLUSHALL, a failover to a replica that never got it); false when a record exists.
   */
  restore(key: string, record: IdempotencyRecord, keepForMs: number): Promise<boolean>;
  /** Rewrites one chunk of a record no delivery holds (completed, or its lease run out); false otherwise. */
  amendChunk(key: string, chunk: number, record: ChunkRecord, now: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Any failure to read or write the store: the caller must not send. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}
