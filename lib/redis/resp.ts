/** A RESP2 reply: simple string, integer, bulk string (null when absent), array (null when absent), or an error. */
export type Reply = string | number | null | Reply[] | ReplyError;

/** An error reply from Redis itself (`-ERR …`, `-NOSCRIPT …`): the command ran and was refused. */
export class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
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

const INCOMPLETE = Symbol('incomplete');

/**
 * An incremental RESP2 decoder: feed it bytes as they arrive; it gives back every whole reply they complete, in
 * order, and keeps the rest for the next feed.
 */
export class ReplyParser {
  private buffer: Buffer = Buffer.alloc(0);

  feed(chunk: Buffer): Reply[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const replies: Reply[] = [];
    let offset = 0;
    for (;;) {
      const parsed = this.parse(offset);
      if (parsed === INCOMPLETE) break;
      replies.push(parsed.reply);
      offset = parsed.next;
    }
    this.buffer = this.buffer.subarray(offset);
    return replies;
  }

  private line(offset: number): { text: string; next: number } | typeof INCOMPLETE {
    const end = this.buffer.indexOf('\r\n', offset);
    if (end < 0) return INCOMPLETE;
    return { text: this.buffer.toString('utf8', offset, end), next: end + 2 };
  }

  private parse(offset: number): { reply: Reply; next: number } | typeof INCOMPLETE {
    if (offset >= this.buffer.length) return INCOMPLETE;
    const type = String.fromCharCode(this.buffer[offset] ?? 0);
    const head = this.line(offset + 1);
    if (head === INCOMPLETE) return INCOMPLETE;
    switch (type) {
      case '+':
        return { reply: head.text, next: head.next };
      case '-':
        return { reply: new ReplyError(head.text), next: head.next };
      case ':':
        return { reply: Number(head.text), next: head.next };
      case '$': {
        const length = Number(head.text);
        if (length < 0) return { reply: null, next: head.next };
        if (this.buffer.length < head.next + length + 2) return INCOMPLETE;
        return { reply: this.buffer.toString('utf8', head.next, head.next + length), next: head.next + length + 2 };
      }
      case '*': {
        const count = Number(head.text);
        if (count < 0) return { reply: null, next: head.next };
        const items: Reply[] = [];
        let next = head.next;
        for (let i = 0; i < count; i++) {
          const item = this.parse(next);
          if (item === INCOMPLETE) return INCOMPLETE;
          items.push(item.reply);
          next = item.next;
        }
        return { reply: items, next };
      }
      default:
        throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
    }
  }
}
