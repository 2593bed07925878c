/** A list's physical lines with their byte ranges, cut from a stream of buffers without holding more than one line. */

/** Longer lines are not kept (no valid recipient comes close): they are reported, never buffered without bound. */
export const MAX_LINE_BYTES = 4096;

const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface Line {
  /** 1-based physical line number. */
  number: number;
  /** Byte offset of the line's first byte in the object (after a UTF-8 BOM on line 1). */
  start: number;
  /** Byte offset just after its end of line (`\n` or `\r\n`), or the end of the object for a last line without one. */
  end: number;
  /** The line without its end of line; valid only while the callback runs. Empty when `tooLong`. */
  content: Buffer;
  tooLong: boolean;
}

export type LineSink = (line: Line) => void;

/**
 * Splits at LF; a CR just before it belongs to the end of line. A lone CR elsewhere is content, so a judge sees
 * it. A UTF-8 BOM is taken away from line 1 only; anywhere else it is content.
 */
export class LineSplitter {
  private offset = 0;
  private lineStart = 0;
  private number = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private tooLong = false;

  /** `firstLine`/`startOffset` let a chunk's byte range be split with the numbers the whole list gave it. */
  constructor(firstLine = 1, startOffset = 0) {
    this.number = firstLine - 1;
    this.offset = startOffset;
    this.lineStart = startOffset;
  }

  feed(buf: Buffer, emit: LineSink): void {
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(LF, pos);
      if (nl === -1) {
        this.keep(buf.subarray(pos));
        this.offset += buf.length - pos;
        return;
      }
      const piece = buf.subarray(pos, nl);
      this.offset += nl + 1 - pos;
      pos = nl + 1;
      if (this.pending.length === 0 && !this.tooLong) {
        this.emitLine(piece, emit);
      } else {
        this.keep(piece);
        this.emitLine(this.tooLong ? Buffer.alloc(0) : Buffer.concat(this.pending, this.pendingBytes), emit);
      }
    }
  }

  /** The last line, when the object does not end with a newline. */
  end(emit: LineSink): void {
    if (this.offset > this.lineStart)
      this.emitLine(this.tooLong ? Buffer.alloc(0) : Buffer.concat(this.pending, this.pendingBytes), emit);
  }

  private keep(piece: Buffer): void {
    if (this.tooLong) return;
    // One more byte than the limit is kept, since a CR before the LF is not content.
    if (this.pendingBytes + piece.length > MAX_LINE_BYTES + 1) {
      this.tooLong = true;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    this.pending.push(Buffer.from(piece));
    this.pendingBytes += piece.length;
  }

  private emitLine(raw: Buffer, emit: LineSink): void {
    this.number += 1;
    let content = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, raw.length - 1) : raw;
    let start = this.lineStart;
    if (this.number === 1 && start === 0 && content.subarray(0, 3).equals(BOM)) {
      content = content.subarray(3);
      start = 3;
    }
    const tooLong = this.tooLong || content.length > MAX_LINE_BYTES;
    emit({ number: this.number, start, end: this.offset, content: tooLong ? Buffer.alloc(0) : content, tooLong });
    this.lineStart = this.offset;
    this.pending = [];
    this.pendingBytes = 0;
    this.tooLong = false;
  }
}

/** Spaces and tabs only (or nothing): a blank line, skipped and never a recipient. */
export function isBlank(content: Buffer): boolean {
  for (let i = 0; i < content.length; i++) {
    const byte = content[i];
    if (byte !== 0x20 && byte !== 0x09) return false;
  }
  return true;
}
