import type { Logger } from '../log.js';
import { keepFor, leaseUntil, type LeaseClock } from './lease.js';
import {
  StoreError,
  type ChunkRecord,
  type IdempotencyRecord,
  type IdempotencyStore,
  type LeaseRenewal,
  type OperationSummary,
} from './types.js';

/** What a record is recreated from when it has vanished under a running delivery. */
export interface ClaimIdentity {
  hash: string;
  op: OperationSummary;
}

const sameChunk = (a: ChunkRecord | undefined, b: ChunkRecord) =>
  a !== undefined && JSON.stringify(a) === JSON.stringify(b);

/** A write refused, then looked into: at most this many rounds (a record recreated by a sibling chunk, say). */
const WRITE_ROUNDS = 3;

/**
 * An operation this delivery holds, and the chunk write protocol in one place: SENDING before every attempt,
 * PENDING while a chunk waits to be retried, its outcome after. Every write is fenced by the owner token and
 * renews the lease. A write that fails (store down, lease lost) is remembered in `failure`, and from then on
 * nothing more is announced: the caller must not send what it could not record first. A write the store refuses
 * is looked into before it is judged: the record may be gone (a FLUSHALL, a failover to a replica that never got
 * it), and is then recreated from what this delivery knows rather than taken for a lease lost.
 */
export class OperationClaim {
  failure: string | undefined;
  failureCause: unknown;
  /** Another delivery holds the record now: nothing this one writes can land, not even a retry. */
  private leaseLost = false;
  private readonly own: Record<number, ChunkRecord> = {};
  /** Outcomes (never SENDING) this delivery meant to write and could not, by chunk: written again before finishing. */
  private readonly unwritten = new Map<number, ChunkRecord>();

  constructor(
    private readonly store: IdempotencyStore,
    readonly key: string,
    readonly owner: string,
    readonly chunkSize: number,
    /** The chunk records as the claim found them. */
    readonly found: Readonly<Record<number, ChunkRecord>>,
    private readonly clock: LeaseClock,
    private readonly ttlMs: number,
    private readonly identity: ClaimIdentity,
    private readonly log?: Logger,
  ) {}

  private finished = false;

  private storeFailed(err: unknown): false {
    this.failure = err instanceof StoreError ? err.message : 'the idempotency store failed';
    this.failureCause = err;
    return false;
  }

  private recorded(n: number, record: ChunkRecord, complete: boolean): true {
    this.own[n] = record;
    this.unwritten.delete(n);
    if (complete) this.finished = true;
    return true;
  }

  /**
   * `retry`: a write again after a store failure (never after the lease was lost): the store may answer again,
   * and every write is owner-fenced, so it can only land while this delivery still holds the record.
   */
  private async write(
    n: number,
    record: ChunkRecord,
    aheadMs: number,
    complete = false,
    retry = false,
  ): Promise<boolean> {
    const written = await this.tryWrite(n, record, aheadMs, complete, retry);
    if (!written && record.state !== 'SENDING') this.unwritten.set(n, record);
    return written;
  }

  private async tryWrite(n: number, record: ChunkRecord, aheadMs: number, complete: boolean, retry: boolean) {
    if (this.failure !== undefined && !(retry && !this.leaseLost)) return false;
    const lease = leaseUntil(this.clock, aheadMs);
    const renewal: LeaseRenewal = {
      leaseUntil: lease,
      keepForMs: keepFor(this.clock, lease),
      ...(complete ? { completeTtlMs: this.ttlMs } : {}),
    };
    try {
      for (let round = 0; round < WRITE_ROUNDS; round++) {
        if (await this.store.putChunk(this.key, this.owner, n, record, renewal))
          return this.recorded(n, record, complete);
        const stored = await this.store.get(this.key);
        if (stored === undefined) {
          if (await this.recreate(n, record, renewal, complete)) return true;
          continue;
        }
        // This delivery's own write, its reply lost and the write sent again after it had completed the record.
        if (stored.owner === this.owner && sameChunk(stored.chunks[n], record))
          return this.recorded(n, record, complete || stored.status === 'COMPLETED');
        if (stored.owner !== this.owner || stored.status !== 'IN_PROGRESS') break;
      }
      this.leaseLost = true;
      this.failure = 'the lease on this operation was lost to another delivery';
      return false;
    } catch (err) {
      return this.storeFailed(err);
    }
  }

  /** The record vanished: it is written again from what this delivery found and has written, with this chunk. */
  private async recreate(n: number, record: ChunkRecord, renewal: LeaseRenewal, complete: boolean): Promise<boolean> {
    const chunks = { ...this.found, ...this.own, [n]: record };
    const restored: IdempotencyRecord = {
      status: complete ? 'COMPLETED' : 'IN_PROGRESS',
      hash: this.identity.hash,
      owner: this.owner,
      leaseUntil: complete ? 0 : renewal.leaseUntil,
      chunkSize: this.chunkSize,
      chunks,
      op: this.identity.op,
    };
    if (!(await this.store.restore(this.key, restored, complete ? this.ttlMs : renewal.keepForMs))) return false;
    this.log?.error(
      'idempotency record was gone (flushed, or lost in a failover to a replica): recreated from what this delivery knows',
      { chunk: n, state: record.state, chunksRecreated: Object.keys(chunks).length, completed: complete },
    );
    return this.recorded(n, record, complete);
  }

  /** Before an attempt: false means the attempt must not happen. */
  sending(n: number, upstreamRequestId: string, callMs: number): Promise<boolean> {
    return this.write(n, { state: 'SENDING', upstreamRequestId, at: this.clock.now() }, callMs);
  }

  /** A chunk proven unsent and still owed (PENDING), held while it waits `waitMs` to be retried. */
  owe(n: number, record: ChunkRecord, waitMs: number): Promise<boolean> {
    return this.write(n, record, waitMs);
  }

  /**
   * What an attempt proved (SENT, FAILED, UNKNOWN) or what this delivery leaves owed. `last`: no other chunk is
   * owed, so a terminal record completes the operation in the same atomic write.
   */
  settle(n: number, record: ChunkRecord, idleMs: number, last = false): Promise<boolean> {
    return this.write(n, record, idleMs, last && record.state !== 'PENDING' && record.state !== 'SENDING');
  }

  /**
   * A chunk whose SENDING write failed (its reply lost, say) written back as owed, so that no delivery takes it
   * for one that may have been sent. Nothing was sent for it.
   */
  revertSending(n: number, record: ChunkRecord): Promise<boolean> {
    return this.write(n, record, 0, false, true);
  }

  /**
   * Writes again every outcome this delivery could not write (the store failed in between); true when the store
   * now holds every one of them. An operation is completed only then.
   */
  async recordAgain(idleMs: number): Promise<boolean> {
    for (const [n, record] of [...this.unwritten]) await this.write(n, record, idleMs, false, true);
    return this.unwritten.size === 0 && !this.leaseLost;
  }

  /** The chunk records as this delivery now holds them: what it found, with what it has written since. */
  get chunks(): Record<number, ChunkRecord> {
    return { ...this.found, ...this.own };
  }

  /**
   * Chunks an earlier delivery left SENDING: their request may have gone out, so they become UNKNOWN and are
   * never sent again.
   */
  async interruptStale(log: Logger, idleMs: number): Promise<void> {
    for (const [key, record] of Object.entries(this.found)) {
      if (record.state !== 'SENDING') continue;
      const n = Number(key);
      const unknown: ChunkRecord = {
        ...record,
        state: 'UNKNOWN',
        code: 'InterruptedDelivery',
        message: `a delivery stopped while upstream RequestId ${record.upstreamRequestId} was being sent; settle it with coupon reconcile --request-id <this RequestId>`,
        at: this.clock.now(),
      };
      log.error('chunk interrupted by an earlier delivery: outcome unknown, not re-sent', {
        chunk: n,
        upstreamRequestId: record.upstreamRequestId,
      });
      await this.write(n, unknown, idleMs);
    }
  }

  /** Completes the record (every chunk settled) or releases the lease for the next delivery; never throws. */
  async finish(completed: boolean, log: Logger): Promise<void> {
    if (this.finished) return;
    try {
      await this.store.finish(this.key, this.owner, completed, this.ttlMs);
    } catch (err) {
      // The lease runs out soon anyway; progress already recorded stays valid.
      log.error('could not finish the idempotency record', {
        error: err instanceof Error ? err.message : String(err),
        completed,
      });
    }
  }

  /**
   * Every chunk record this delivery can see: the store's latest (another delivery may have taken over and gone
   * on), else what this delivery found and wrote. Then what it knows itself (`known`): what its calls proved
   * (SENT, FAILED, UNKNOWN) holds even when the lease was lost before it was written; why a chunk stays owed
   * (PENDING) holds only where no other delivery has recorded more.
   */
  async latest(known: Readonly<Record<number, ChunkRecord>>, settled: boolean): Promise<Record<number, ChunkRecord>> {
    let seen = this.chunks;
    if (this.failure !== undefined || !settled) {
      try {
        const record = await this.store.get(this.key);
        if (record) seen = { ...this.found, ...record.chunks };
      } catch {
        // The store cannot be read now: what this delivery found and wrote is still the truth it knows.
      }
    }
    for (const [n, record] of Object.entries(known)) {
      const stored = seen[Number(n)];
      if (record.state !== 'PENDING' || stored === undefined || stored.state === 'PENDING') seen[Number(n)] = record;
    }
    return seen;
  }
}
