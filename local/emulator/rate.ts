/** Token bucket: bursts up to one second's worth of calls, refilled at `qps` per second. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = qps;
    this.last = now();
  }

  tryTake(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.qps, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  reset(): void {
    this.tokens = this.qps;
    this.last = this.now();
  }
}

/** The most calls seen in any one second (a sliding window: calls at t with x − 1 s < t ≤ x, for every x). */
export class BusiestSecond {
  private recent: number[] = [];
  private head = 0;
  max = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  record(): void {
    const t = this.now();
    this.recent.push(t);
    while ((this.recent[this.head] ?? t) <= t - 1000) this.head++;
    // Dropped from the front now and then, so the array never grows with the run.
    if (this.head > 1024) {
      this.recent = this.recent.slice(this.head);
      this.head = 0;
    }
    this.max = Math.max(this.max, this.recent.length - this.head);
  }

  reset(): void {
    this.recent = [];
    this.head = 0;
    this.max = 0;
  }
}
