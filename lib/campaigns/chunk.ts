import { createHash, type Hash } from 'node:crypto';
import { toCents } from '../guardrails/cents.js';
import type { Recipient } from '../operation.js';
import { judgeLine, type ListFormat } from './line-rules.js';
import { isBlank, LineSplitter, type Line } from './lines.js';

export interface InvalidLine {
  /** 1-based physical line number (a CSV header is line 1). */
  line: number;
  problem: string;
}

/**
 * One chunk of a planned list: the lines in the byte range [start, end), from the first valid line after the
 * previous chunk to the last valid line it takes. Invalid lines inside the range are judged invalid again when it
 * is re-read; a duplicate, which only the whole list reveals, is named in `skipLines`.
 */
export interface ChunkPlan {
  /** From 1. */
  n: number;
  start: number;
  end: number;
  firstLine: number;
  lastLine: number;
  recipients: number;
  amountCents: number;
  /** Lines in the range whose uid appeared on an earlier line of the list. */
  skipLines: number[];
  /** SHA-256 (hex) of the chunk's recipients in order, each as `uid,amount\n`: what a re-read must find again. */
  digest: string;
}

export function recipientDigest(hash: Hash, recipient: Recipient): void {
  hash.update(`${recipient.uid.digits},${recipient.amountText}\n`);
}

/** A chunk's bytes no longer hold what was planned (the object was replaced, or the range is wrong). */
export class ChunkMismatch extends Error {
  constructor(chunk: ChunkPlan, what: string) {
    super(`chunk ${chunk.n} (lines ${chunk.firstLine}-${chunk.lastLine}) does not match its plan: ${what}`);
    this.name = 'ChunkMismatch';
  }
}

/**
 * The recipients of a chunk from its byte range, re-judged by the same rules as planning, in list order. Anything
 * that differs from the plan (count, sum, the recipients themselves) refuses the whole chunk: nothing of a list
 * that changed after planning is ever sent.
 */
export function readChunk(bytes: Buffer, chunk: ChunkPlan, format: ListFormat, maxCouponAmount: number): Recipient[] {
  if (bytes.length !== chunk.end - chunk.start)
    throw new ChunkMismatch(chunk, `expected ${chunk.end - chunk.start} bytes, read ${bytes.length}`);
  const skip = new Set(chunk.skipLines);
  const seen = new Set<string>();
  const recipients: Recipient[] = [];
  let lastLine = 0;
  const onLine = (line: Line) => {
    lastLine = line.number;
    if (line.tooLong || isBlank(line.content) || skip.has(line.number)) return;
    const verdict = judgeLine(line.content, format, maxCouponAmount);
    if ('problem' in verdict) return;
    const uid = verdict.recipient.uid.digits;
    if (seen.has(uid)) throw new ChunkMismatch(chunk, `line ${line.number} repeats a uid the plan did not skip`);
    seen.add(uid);
    recipients.push(verdict.recipient);
  };
  const splitter = new LineSplitter(chunk.firstLine, chunk.start);
  splitter.feed(bytes, onLine);
  splitter.end(onLine);
  const digest = createHash('sha256');
  let cents = 0;
  for (const r of recipients) {
    recipientDigest(digest, r);
    cents += toCents(r.amount);
  }
  if (lastLine !== chunk.lastLine) throw new ChunkMismatch(chunk, `the range ends on line ${lastLine}`);
  if (recipients.length !== chunk.recipients)
    throw new ChunkMismatch(chunk, `${recipients.length} recipients instead of ${chunk.recipients}`);
  if (cents !== chunk.amountCents || digest.digest('hex') !== chunk.digest)
    throw new ChunkMismatch(chunk, 'the recipients or amounts differ');
  return recipients;
}

/** The HTTP Range header of a chunk's bytes (inclusive end). */
export const chunkRange = (chunk: ChunkPlan): string => `bytes=${chunk.start}-${chunk.end - 1}`;
