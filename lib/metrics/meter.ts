/**
 * What one operation's send path counts while it runs, for its metric line (docs/metrics.md): the upstream calls
 * and throttled attempts, and the daily budget's used total as the ledger last reported it. The ledger's replies
 * to reservations are reused, so counting the budget costs no store round trip of its own.
 */
export class OperationMeter {
  upstreamCalls = 0;
  throttles = 0;
  private usedCents: number | undefined;
  /** The chunks whose outcome this delivery's own calls settled: only their coupons count as issued by it. */
  readonly settledChunks = new Set<number>();

  /** Optional labels another part may set: the lane the operation ran in, the campaign chunk it sends. */
  lane: string | undefined;
  campaignId: string | undefined;
  campaignChunk: number | undefined;

  call(throttled: boolean): void {
    this.upstreamCalls += 1;
    if (throttled) this.throttles += 1;
  }

  /** A chunk's outcome came from this delivery's call (or its request may have left and it is UNKNOWN). */
  settled(chunk: number): void {
    this.settledChunks.add(chunk);
  }

  /** The day's used total the ledger answered a reservation (granted or refused) with. */
  budgetReported(usedCents: number): void {
    this.usedCents = usedCents;
  }

  /** A reservation this operation gave back after the ledger last reported. */
  budgetReleased(cents: number): void {
    if (this.usedCents !== undefined) this.usedCents = Math.max(0, this.usedCents - cents);
  }

  /** Undefined when no reservation was answered (a replay, a dry run, a refusal before any chunk). */
  get budgetUsedCents(): number | undefined {
    return this.usedCents;
  }
}
