/** A RESP2 reply: simple string, integer, bulk string (null when absent), array (null when absent), or an error. */
export type Reply = string | number | null | Reply[] | ReplyError;

/** An error reply from Redis itself (`-ERR …`, `-NOSCRIPT …`): the command reached the server and was refused. */
export class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
  }
}

/** Bytes that are not RESP2: not a Redis server, or a stream out of step. The connection cannot be used again. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** One command as RESP: an array of bulk strings. */
export function encodeCommand(args: readonly string[]): Buffer {
  let head = `*${args.length}\r\n`;
  const parts: Buffer[] = [];
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8');
    head += `$${bytes.length}\r\n`;
    parts.push(Buffer.from(head, 'utf8'), bytes);
    head = '\r\n';
  }
  parts.push(Buffer.from(head, 'utf8'));
  return Buffer.concat(parts);
}

/** Redis's own limit on a bulk string (proto-max-bulk-len); anything longer is not from a Redis server. */
export const MAX_BULK_BYTES = 512 * 1024 * 1024;
/** The longest header or status line accepted; a line without CRLF after this many bytes is refused. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Replies nest a few levels at most; a deeper stream is refused before it can exhaust the stack. */
export const MAX_DEPTH = 64;

type Parsed = { reply: Reply; next: number };
/** Not enough bytes yet: at least this many must be buffered before parsing again can make progress. */
type Need = { need: number };

const CR = 0x0d;
const LF = 0x0a;

/**
 * An incremental RESP2 decoder: feed it bytes as they arrive; it gives back every whole reply they complete, in
 * order, and keeps the rest. A reply still incomplete says how many bytes it needs, and chunks are only collected
 * until then, so a large bulk string costs one copy, not one per chunk. Anything that is not RESP2 throws a
 * ProtocolError naming what was wrong and where.
 */
export class ReplyParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = 1;
  private buffer: Buffer = Buffer.alloc(0);

  feed(chunk: Buffer): Reply[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return [];
    this.buffer = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
    const replies: Reply[] = [];
    let offset = 0;
    for (;;) {
      const parsed = this.parse(offset, 0);
      if ('need' in parsed) {
        this.need = parsed.need - offset;
        break;
      }
      replies.push(parsed.reply);
      offset = parsed.next;
    }
    const rest = this.buffer.subarray(offset);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    this.buffer = Buffer.alloc(0);
    return replies;
  }

  private fail(offset: number, problem: string): never {
    throw new ProtocolError(`not a RESP2 reply at byte ${offset}: ${problem}`);
  }

  private line(offset: number): { text: string; next: number } | Need {
    const limit = Math.min(this.buffer.length, offset + MAX_LINE_BYTES);
    for (let i = offset; i < limit; i++) {
      const byte = this.buffer[i];
      if (byte === LF) this.fail(i, 'a line feed without a carriage return');
      if (byte === CR) {
        if (i + 1 >= this.buffer.length) return { need: i + 2 };
        if (this.buffer[i + 1] !== LF) this.fail(i, 'a carriage return without a line feed');
        return { text: this.buffer.toString('utf8', offset, i), next: i + 2 };
      }
    }
    if (limit - offset >= MAX_LINE_BYTES) this.fail(offset, `a line longer than ${MAX_LINE_BYTES} bytes`);
    return { need: this.buffer.length + 1 };
  }

  private integer(text: string, offset: number, what: string): number {
    if (!/^-?\d{1,19}$/.test(text)) this.fail(offset, `${what} ${JSON.stringify(text.slice(0, 40))} is not an integer`);
    const value = Number(text);
    if (!Number.isSafeInteger(value)) this.fail(offset, `${what} ${text} is beyond what a number holds exactly`);
    return value;
  }

  private parse(offset: number, depth: number): Parsed | Need {
    if (offset >= this.buffer.length) return { need: offset + 1 };
    const type = this.buffer[offset];
    const head = this.line(offset + 1);
    if ('need' in head) return head;
    switch (type) {
      case 0x2b: // +
        return { reply: head.text, next: head.next };
      case 0x2d: // -
        return { reply: new ReplyError(head.text), next: head.next };
      case 0x3a: // :
        return { reply: this.integer(head.text, offset, 'the integer'), next: head.next };
      case 0x24: {
        // $
        const length = this.integer(head.text, offset, 'the bulk length');
        if (length === -1) return { reply: null, next: head.next };
        if (length < -1) this.fail(offset, `a bulk length of ${length}`);
        if (length > MAX_BULK_BYTES) this.fail(offset, `a bulk of ${length} bytes, over Redis's own limit`);
        const end = head.next + length;
        if (this.buffer.length < end + 2) return { need: end + 2 };
        if (this.buffer[end] !== CR || this.buffer[end + 1] !== LF)
          this.fail(end, `the bulk of ${length} bytes is not followed by CRLF`);
        return { reply: this.buffer.toString('utf8', head.next, end), next: end + 2 };
      }
      case 0x2a: {
        // *
        const count = this.integer(head.text, offset, 'the array length');
        if (count === -1) return { reply: null, next: head.next };
        if (count < -1) this.fail(offset, `an array length of ${count}`);
        if (depth >= MAX_DEPTH) this.fail(offset, `arrays nested deeper than ${MAX_DEPTH}`);
        const items: Reply[] = [];
        let next = head.next;
        for (let i = 0; i < count; i++) {
          const item = this.parse(next, depth + 1);
          if ('need' in item) return item;
          items.push(item.reply);
          next = item.next;
        }
        return { reply: items, next };
      }
      default:
        return this.fail(
          offset,
          `the type byte ${JSON.stringify(String.fromCharCode(type ?? 0))} (0x${(type ?? 0).toString(16).padStart(2, '0')})`,
        );
    }
  }
}
