import type { Logger } from '../log.js';
import { keepFor, leaseUntil, type LeaseClock } from './lease.js';
import { StoreError, type ChunkRecord, type IdempotencyStore } from './types.js';

/**
 * An operation this delivery holds, and the chunk write protocol in one place: SENDING before every attempt,
 * PENDING while a chunk waits to be retried, its outcome after. Every write is fenced by the owner token and
 * renews the lease. A write that fails (store down, lease lost) is remembered in `failure`, and from then on
 * nothing more is announced: the caller must not send what it could not record first.
 */
export class OperationClaim {
  failure: string | undefined;
  failureCause: unknown;
  private readonly own: Record<number, ChunkRecord> = {};

  constructor(
    private readonly store: IdempotencyStore,
    readonly key: string,
    private readonly owner: string,
    readonly chunkSize: number,
    /** The chunk records as the claim found them. */
    readonly found: Readonly<Record<number, ChunkRecord>>,
    private readonly clock: LeaseClock,
    private readonly ttlMs: number,
  ) {}

  private finished = false;

  private async write(n: number, record: ChunkRecord, aheadMs: number, complete = false): Promise<boolean> {
    if (this.failure !== undefined) return false;
    const lease = leaseUntil(this.clock, aheadMs);
    try {
      const renewal = {
        leaseUntil: lease,
        keepForMs: keepFor(this.clock, lease),
        ...(complete ? { completeTtlMs: this.ttlMs } : {}),
      };
      if (await this.store.putChunk(this.key, this.owner, n, record, renewal)) {
        this.own[n] = record;
        this.finished = complete;
        return true;
      }
      this.failure = 'the lease on this operation was lost to another delivery';
    } catch (err) {
      this.failure = err instanceof StoreError ? err.message : 'the idempotency store failed';
      this.failureCause = err;
    }
    return false;
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
        message: `a delivery stopped while upstream RequestId ${record.upstreamRequestId} was being sent; check with GetCouponPage`,
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
