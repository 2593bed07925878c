/**
 * An incremental HTTP/1.1 response parser for the one kind of exchange the upstream client makes: one request,
 * one response, on a connection that may then be reused. Strict where leniency could hide a desynchronised
 * connection (conflicting lengths, folded headers, bad chunk sizes); every refusal is an `HttpParseError`, which
 * the transport reports as an answer it could not read (the request may have been acted on).
 */

export interface ParsedResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** False when the server asked to close, spoke HTTP/1.0, framed the body by closing, or sent bytes past it. */
  reusable: boolean;
}

export class HttpParseError extends Error {
  constructor(
    readonly code: 'BadResponse' | 'ResponseTooLarge',
    message: string,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

export const MAX_HEAD_BYTES = 64 * 1024;
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,8})[ \t]*(?:;[^\r\n]*)?$/;
const DIGITS = /^\d{1,15}$/;

type State =
  | { at: 'head' }
  | { at: 'length'; remaining: number }
  | { at: 'until-close' }
  | { at: 'chunk-size' }
  | { at: 'chunk-data'; remaining: number }
  | { at: 'chunk-crlf' }
  | { at: 'trailers' }
  | { at: 'done' };

const bad = (message: string) => new HttpParseError('BadResponse', message);

interface Head {
  status: number;
  headers: Record<string, string>;
  http10: boolean;
}

function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const statusLine = STATUS_LINE.exec(lines[0] ?? '');
  if (!statusLine) throw bad(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`);
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // A leading space or tab is an obsolete line fold; a name that is not a token could be a smuggled header.
    if (!TOKEN.test(name)) throw bad(`malformed header line ${i}`);
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) throw bad(`header ${name} has a forbidden character`);
    const key = name.toLowerCase();
    const seen = headers[key];
    headers[key] = seen === undefined ? value : `${seen}, ${value}`;
  }
  return { status: Number(statusLine[2]), headers, http10: statusLine[1] === '0' };
}

function bodyStateOf(head: Head): State {
  const { status, headers } = head;
  if (status === 204 || status === 304) return { at: 'length', remaining: 0 };
  const te = headers['transfer-encoding'];
  if (te !== undefined) {
    // We send no Accept-Encoding, so chunked is the only coding a server may use; anything else is unreadable.
    if (te.toLowerCase() !== 'chunked') throw bad(`unsupported transfer-encoding ${JSON.stringify(te.slice(0, 40))}`);
    if (headers['content-length'] !== undefined) throw bad('both transfer-encoding and content-length');
    return { at: 'chunk-size' };
  }
  const cl = headers['content-length'];
  if (cl === undefined) return { at: 'until-close' };
  const values = new Set(cl.split(',').map((v) => v.trim()));
  const [only] = values;
  if (values.size !== 1 || only === undefined || !DIGITS.test(only)) throw bad('invalid content-length');
  const length = Number(only);
  if (length > MAX_BODY_BYTES) throw new HttpParseError('ResponseTooLarge', 'the answer exceeds 8 MiB');
  return { at: 'length', remaining: length };
}

const closes = (head: Head) =>
  head.http10 ||
  (head.headers['connection'] ?? '')
    .toLowerCase()
    .split(',')
    .some((t) => t.trim() === 'close');

export class ResponseParser {
  private pending: Buffer = Buffer.alloc(0);
  private state: State = { at: 'head' };
  private head: Head | undefined;
  private readonly body: Buffer[] = [];
  private bodyBytes = 0;

  /** Feeds bytes; returns the response once it is complete, and never again after that. */
  push(chunk: Buffer): ParsedResponse | undefined {
    if (this.state.at === 'done') return undefined;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    return this.advance();
  }

  /** The connection ended: the response if closing was its framing, otherwise a parse error. */
  end(): ParsedResponse {
    if (this.state.at === 'until-close' && this.head) return this.finish(this.head, false);
    throw bad('the connection closed before the answer was complete');
  }

  private advance(): ParsedResponse | undefined {
    for (;;) {
      const state = this.state;
      switch (state.at) {
        case 'head': {
          const end = this.pending.indexOf(HEAD_END);
          if (end < 0) {
            if (this.pending.length > MAX_HEAD_BYTES) throw bad('the response head exceeds 64 KiB');
            return undefined;
          }
          const head = parseHead(this.pending.toString('latin1', 0, end));
          this.pending = this.pending.subarray(end + 4);
          // Informational answers (100 Continue, 103 Early Hints) precede the real one.
          if (head.status < 200) {
            if (head.status === 101) throw bad('unexpected 101 Switching Protocols');
            continue;
          }
          this.head = head;
          this.state = bodyStateOf(head);
          continue;
        }
        case 'length': {
          state.remaining -= this.take(state.remaining);
          if (state.remaining > 0) return undefined;
          return this.finish(this.head as Head, true);
        }
        case 'until-close':
          this.take(this.pending.length);
          return undefined;
        case 'chunk-size': {
          const line = this.line(1024, 'chunk size line');
          if (line === undefined) return undefined;
          const match = CHUNK_SIZE.exec(line);
          if (!match) throw bad('invalid chunk size');
          const size = parseInt(match[1] as string, 16);
          this.state = size === 0 ? { at: 'trailers' } : { at: 'chunk-data', remaining: size };
          continue;
        }
        case 'chunk-data':
          state.remaining -= this.take(state.remaining);
          if (state.remaining > 0) return undefined;
          this.state = { at: 'chunk-crlf' };
          continue;
        case 'chunk-crlf': {
          // Nothing may stand between a chunk's data and its CRLF: more bytes mean data longer than its size.
          if (this.line(0, 'chunk data') === undefined) return undefined;
          this.state = { at: 'chunk-size' };
          continue;
        }
        case 'trailers': {
          const line = this.line(MAX_HEAD_BYTES, 'trailer');
          if (line === undefined) return undefined;
          if (line === '') return this.finish(this.head as Head, true);
          continue;
        }
        case 'done':
          return undefined;
      }
    }
  }

  /** The next CRLF-terminated line, consumed; undefined until it has arrived. */
  private line(max: number, what: string): string | undefined {
    const end = this.pending.indexOf(CRLF);
    if (end < 0) {
      if (this.pending.length > max + 1) throw bad(`${what} not terminated by CRLF`);
      return undefined;
    }
    if (end > max) throw bad(`${what} not terminated by CRLF`);
    const text = this.pending.toString('latin1', 0, end);
    this.pending = this.pending.subarray(end + 2);
    return text;
  }

  /** Moves up to `wanted` pending bytes into the body; returns how many it moved. */
  private take(wanted: number): number {
    const n = Math.min(wanted, this.pending.length);
    if (n === 0) return 0;
    this.bodyBytes += n;
    if (this.bodyBytes > MAX_BODY_BYTES) throw new HttpParseError('ResponseTooLarge', 'the answer exceeds 8 MiB');
    this.body.push(this.pending.subarray(0, n));
    this.pending = this.pending.subarray(n);
    return n;
  }

  private finish(head: Head, framed: boolean): ParsedResponse {
    this.state = { at: 'done' };
    const body = this.body.length === 1 ? (this.body[0] as Buffer) : Buffer.concat(this.body);
    return {
      status: head.status,
      headers: head.headers,
      body,
      reusable: framed && !closes(head) && this.pending.length === 0,
    };
  }
}
