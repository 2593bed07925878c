/**
 * An exact set of uids (canonical digits, 1 … 2^63-1) with the line each was first seen on, in 12 bytes a slot:
 * an open-addressing table of 64-bit keys held as two 32-bit halves, plus the line number. A Set of strings would
 * take ~100 bytes a uid (a million uids ≈ 100 MB, past a planner's 128 MB); a Bloom filter would be smaller but
 * would call some valid lines duplicates. At most 3/4 full, so a million uids take 2^21 slots = 24 MB.
 */
const EMPTY = 0;
const MAX_LOAD = 0.75;

/*
 * The uid as an exact 64-bit key: high = uid div 1e9 (< 2^34) and low = uid mod 1e9 (< 2^30), packed into two
 * words (hi = high div 4, lo = low + (high mod 4)·2^30). Written to two module variables rather than returned
 * as a pair: a million lines then make a million fewer short-lived arrays.
 */
let keyHi = 0;
let keyLo = 0;
function setKey(high: number, low: number): void {
  keyHi = Math.floor(high / 4);
  keyLo = (low + (high % 4) * 2 ** 30) >>> 0;
}

function setKeyOfText(digits: string): void {
  const cut = Math.max(0, digits.length - 9);
  setKey(cut === 0 ? 0 : Number(digits.slice(0, cut)), Number(digits.slice(cut)));
}

/** Bytes [start, end) are canonical ASCII digits (checked by the caller). */
function setKeyOfBytes(bytes: Uint8Array, start: number, end: number): void {
  const cut = Math.max(start, end - 9);
  let high = 0;
  let low = 0;
  for (let i = start; i < cut; i++) high = high * 10 + ((bytes[i] ?? 0) - 0x30);
  for (let i = cut; i < end; i++) low = low * 10 + ((bytes[i] ?? 0) - 0x30);
  setKey(high, low);
}

function slotOf(hi: number, lo: number, mask: number): number {
  let h = Math.imul(hi ^ 0x9e3779b9, 0x85ebca6b) ^ lo;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) & mask;
}

export class UidSet {
  private his: Uint32Array;
  private los: Uint32Array;
  private lines: Uint32Array;
  private count = 0;

  constructor(initialSlots = 1 << 16) {
    this.his = new Uint32Array(initialSlots);
    this.los = new Uint32Array(initialSlots);
    this.lines = new Uint32Array(initialSlots);
  }

  get size(): number {
    return this.count;
  }

  /** Adds the uid seen on `line`; answers the line it was first seen on when it was already there, else undefined. */
  addOrFirstLine(digits: string, line: number): number | undefined {
    setKeyOfText(digits);
    return this.addKey(line);
  }

  /** The same for a uid written as the canonical ASCII digits bytes [start, end), without making a string of them. */
  addBytesOrFirstLine(bytes: Uint8Array, start: number, end: number, line: number): number | undefined {
    setKeyOfBytes(bytes, start, end);
    return this.addKey(line);
  }

  private addKey(line: number): number | undefined {
    const hi = keyHi;
    const lo = keyLo;
    const mask = this.his.length - 1;
    for (let i = slotOf(hi, lo, mask); ; i = (i + 1) & mask) {
      const h = this.his[i] ?? EMPTY;
      const l = this.los[i] ?? EMPTY;
      if (h === EMPTY && l === EMPTY) {
        this.his[i] = hi;
        this.los[i] = lo;
        this.lines[i] = line;
        this.count += 1;
        if (this.count > this.his.length * MAX_LOAD) this.grow();
        return undefined;
      }
      if (h === hi && l === lo) return this.lines[i];
    }
  }

  private grow(): void {
    const { his, los, lines } = this;
    const size = his.length * 2;
    this.his = new Uint32Array(size);
    this.los = new Uint32Array(size);
    this.lines = new Uint32Array(size);
    const mask = size - 1;
    for (let j = 0; j < his.length; j++) {
      const hi = his[j] ?? EMPTY;
      const lo = los[j] ?? EMPTY;
      if (hi === EMPTY && lo === EMPTY) continue;
      let i = slotOf(hi, lo, mask);
      while ((this.his[i] ?? EMPTY) !== EMPTY || (this.los[i] ?? EMPTY) !== EMPTY) i = (i + 1) & mask;
      this.his[i] = hi;
      this.los[i] = lo;
      this.lines[i] = lines[j] ?? 0;
    }
  }
}
