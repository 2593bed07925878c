/**
 * Signature nonces seen, each remembered until its request could no longer be accepted: its signed date plus the
 * allowed skew. Remembering it for a fixed time after arrival is not enough: a request dated up to the skew in
 * the future stays acceptable for twice the skew, and would replay once its nonce was forgotten.
 */
export class NonceWindow {
  private readonly until = new Map<string, number>();
  /** Min-heap of [expiry, nonce]: expiries do not come in arrival order. */
  private readonly heap: Array<[number, string]> = [];

  get size(): number {
    return this.until.size;
  }

  /** Whether `nonce` was seen and its request is still acceptable at `now`. */
  has(nonce: string, now: number): boolean {
    this.forget(now);
    return this.until.has(nonce);
  }

  /** Remembers `nonce` until `expiresAt` (its request's date plus the skew), inclusive. */
  remember(nonce: string, expiresAt: number): void {
    if (this.until.has(nonce)) return;
    this.until.set(nonce, expiresAt);
    this.heap.push([expiresAt, nonce]);
    this.up(this.heap.length - 1);
  }

  clear(): void {
    this.until.clear();
    this.heap.length = 0;
  }

  private forget(now: number): void {
    while (this.expiryAt(0) < now) {
      const top = this.heap[0];
      const last = this.heap.pop();
      if (top === undefined || last === undefined) return;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.down(0);
      }
      this.until.delete(top[1]);
    }
  }

  private expiryAt(i: number): number {
    return this.heap[i]?.[0] ?? Infinity;
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i];
    const b = this.heap[j];
    if (a === undefined || b === undefined) return;
    this.heap[i] = b;
    this.heap[j] = a;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.expiryAt(parent) <= this.expiryAt(i)) return;
      this.swap(parent, i);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      let min = i;
      for (const child of [2 * i + 1, 2 * i + 2]) if (this.expiryAt(child) < this.expiryAt(min)) min = child;
      if (min === i) return;
      this.swap(min, i);
      i = min;
    }
  }
}
