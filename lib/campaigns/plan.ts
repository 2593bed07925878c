import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { toCents } from '../guardrails/cents.js';
import { recipientDigest, type ChunkPlan, type InvalidLine } from './chunk.js';
import { isCsvHeader, judgeLine, type ListFormat } from './line-rules.js';
import { isBlank, LineSplitter, type Line } from './lines.js';
import { emptyPlainLine, readPlainCsv, readPlainJsonl } from './plain-lines.js';
import { UidSet } from './uid-set.js';

/** Recipients a chunk holds at most: one ordinary operation of the exactly-once path. */
export const DEFAULT_CHUNK_SIZE = 1000;
/** Invalid lines named one by one in a plan; the rest are counted. */
export const MAX_INVALID_REPORTED = 1000;
/** The most recipients one list may hold: the duplicate check keeps 12 bytes a slot for each (see uid-set.ts). */
export const MAX_LIST_RECIPIENTS = 2_000_000;

export interface PlanOptions {
  maxCouponAmount: number;
  /** Valid recipients per chunk (default 1,000). */
  chunkSize?: number;
  /** Physical lines one chunk may span at most (default 4 × chunkSize): bounds a chunk's range and its skip list. */
  maxChunkLines?: number;
  maxRecipients?: number;
  /** Forced format; by default line 1 decides (a JSON object → JSONL, else the CSV header). */
  format?: ListFormat;
  /** Called with each chunk as soon as it is cut, in order; planning waits for it. */
  onChunk?: (chunk: ChunkPlan) => void | Promise<void>;
}

export interface ListPlan {
  format: ListFormat;
  bytes: number;
  /** SHA-256 (hex) of the whole object: the same campaign id with another list is told apart by it. */
  sha256: string;
  /** Physical lines, a CSV header and blank lines included. */
  lines: number;
  blankLines: number;
  /** Valid recipients: what the campaign sends. */
  total: number;
  totalCents: number;
  chunks: number;
  /** The first MAX_INVALID_REPORTED invalid lines, by line number. */
  invalidLines: InvalidLine[];
  invalidCount: number;
}

/** The list as a whole cannot be a campaign (no header, nothing in it, too many recipients); nothing is planned. */
export class ListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListError';
  }
}

const JSON_OBJECT_START = /^[ \t]*\{/;
const NEWLINE = Buffer.from('\n');
const COMMA = Buffer.from(',');

function detect(line: Line, forced: ListFormat | undefined): ListFormat {
  const text = line.content.toString('latin1');
  if (forced === 'jsonl') return 'jsonl';
  if (forced === undefined && JSON_OBJECT_START.test(text)) return 'jsonl';
  if (line.number === 1 && isCsvHeader(text)) return 'csv';
  throw new ListError(
    forced === 'csv'
      ? 'line 1 must be the CSV header "uid,amount"'
      : 'line 1 must be the CSV header "uid,amount" or, for JSONL, a JSON object {"uid", "amount"}',
  );
}

interface OpenChunk {
  n: number;
  start: number;
  firstLine: number;
  end: number;
  lastLine: number;
  recipients: number;
  amountCents: number;
  skipLines: number[];
  digest: Hash;
}

/**
 * Reads a recipients list once, from a stream, and plans it: every line judged by the rules of a send, a uid
 * repeated anywhere in the list refused after its first line, and the valid lines cut into chunks of byte ranges
 * on line boundaries. Memory stays bounded by one line, one chunk's skip list, the invalid-line report and the
 * uid set, never by the list.
 */
export async function planList(source: Readable | AsyncIterable<Buffer>, options: PlanOptions): Promise<ListPlan> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const maxChunkLines = options.maxChunkLines ?? chunkSize * 4;
  const maxRecipients = options.maxRecipients ?? MAX_LIST_RECIPIENTS;
  const whole = createHash('sha256');
  const splitter = new LineSplitter();
  const uids = new UidSet();
  const plain = emptyPlainLine();
  const ready: ChunkPlan[] = [];
  const invalidLines: InvalidLine[] = [];
  let format: ListFormat | undefined;
  let bytes = 0;
  let lines = 0;
  let blankLines = 0;
  let invalidCount = 0;
  let total = 0;
  let totalCents = 0;
  let chunks = 0;
  let open: OpenChunk | undefined;

  const invalid = (line: number, problem: string) => {
    invalidCount += 1;
    if (invalidLines.length < MAX_INVALID_REPORTED) invalidLines.push({ line, problem });
  };

  const close = () => {
    if (!open) return;
    const { digest, skipLines, ...rest } = open;
    const lastLine = open.lastLine;
    // A duplicate after the chunk's last valid line lies outside its range: it is nobody's to skip.
    ready.push({ ...rest, skipLines: skipLines.filter((n) => n < lastLine), digest: digest.digest('hex') });
    open = undefined;
  };

  /** Opens a chunk at `line` when none is open (or the open one would span too many lines); answers it. */
  const chunkFor = (line: Line): OpenChunk => {
    if (open && line.number - open.firstLine + 1 > maxChunkLines) close();
    if (!open) {
      chunks += 1;
      open = {
        n: chunks,
        start: line.start,
        firstLine: line.number,
        end: line.end,
        lastLine: line.number,
        recipients: 0,
        amountCents: 0,
        skipLines: [],
        digest: createHash('sha256'),
      };
    }
    return open;
  };

  /** The uid was seen before: the line is invalid, and named for the chunk worker when it lies in the open chunk. */
  const duplicate = (line: Line, first: number) => {
    invalid(line.number, `uid duplicates the uid on line ${first}`);
    if (open) open.skipLines.push(line.number);
  };

  /** A valid recipient on `line`, whose `uid,amount\n` has already gone into the chunk's digest. */
  const counted = (chunk: OpenChunk, line: Line, cents: number) => {
    chunk.end = line.end;
    chunk.lastLine = line.number;
    chunk.recipients += 1;
    chunk.amountCents += cents;
    total += 1;
    totalCents += cents;
    if (total > maxRecipients) throw new ListError(`the list holds more than ${maxRecipients} recipients`);
    if (chunk.recipients >= chunkSize) close();
  };

  const onLine = (line: Line) => {
    lines = line.number;
    if (!line.tooLong && isBlank(line.content)) {
      blankLines += 1;
      return;
    }
    if (format === undefined) {
      format = detect(line, options.format);
      if (format === 'csv') return;
    }
    if (line.tooLong) return invalid(line.number, 'is longer than 4096 bytes');
    // The common line, judged from its bytes, which hold the `uid` and `amount` the digest takes.
    const { content } = line;
    const read = format === 'csv' ? readPlainCsv : readPlainJsonl;
    if (read(content, options.maxCouponAmount, plain)) {
      const first = uids.addBytesOrFirstLine(content, plain.uidStart, plain.uidEnd, line.number);
      if (first !== undefined) return duplicate(line, first);
      const chunk = chunkFor(line);
      if (plain.uidStart === 0 && plain.amountStart === plain.uidEnd + 1) {
        chunk.digest.update(plain.amountEnd === content.length ? content : content.subarray(0, plain.amountEnd));
      } else {
        chunk.digest.update(content.subarray(plain.uidStart, plain.uidEnd));
        chunk.digest.update(COMMA);
        chunk.digest.update(content.subarray(plain.amountStart, plain.amountEnd));
      }
      chunk.digest.update(NEWLINE);
      return counted(chunk, line, plain.cents);
    }
    const verdict = judgeLine(line.content, format, options.maxCouponAmount);
    if ('problem' in verdict) return invalid(line.number, verdict.problem);
    const first = uids.addOrFirstLine(verdict.recipient.uid.digits, line.number);
    if (first !== undefined) return duplicate(line, first);
    const chunk = chunkFor(line);
    recipientDigest(chunk.digest, verdict.recipient);
    counted(chunk, line, toCents(verdict.recipient.amount));
  };

  const flush = async () => {
    for (const chunk of ready.splice(0)) await options.onChunk?.(chunk);
  };

  for await (const buf of source as AsyncIterable<Buffer>) {
    whole.update(buf);
    bytes += buf.length;
    splitter.feed(buf, onLine);
    await flush();
  }
  splitter.end(onLine);
  close();
  await flush();
  if (format === undefined) throw new ListError('the list holds no recipients: it is empty or blank');
  return {
    format,
    bytes,
    sha256: whole.digest('hex'),
    lines,
    blankLines,
    total,
    totalCents,
    chunks,
    invalidLines,
    invalidCount,
  };
}
