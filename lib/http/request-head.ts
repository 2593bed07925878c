const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FORBIDDEN = /[\0\r\n]/;
/** Framing is ours to write: a caller's copy could contradict it and split one request into two. */
const FRAMING = new Set(['content-length', 'connection', 'transfer-encoding']);

/**
 * The head of an HTTP/1.1 request with a body: the caller's headers, then `host` (unless given),
 * `content-length` and `connection: keep-alive`. A name that is not a token, or a CR, LF or NUL anywhere, is
 * refused rather than sent: it would let a value start a header or a request of its own.
 */
export function requestHead(
  method: string,
  url: URL,
  headers: Readonly<Record<string, string>>,
  contentLength: number,
): string {
  const target = `${url.pathname}${url.search}`;
  if (!TOKEN.test(method) || FORBIDDEN.test(target) || /\s/.test(target))
    throw new TypeError(`cannot send ${JSON.stringify(method)} ${JSON.stringify(target)}`);
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let hasHost = false;
  for (const name in headers) {
    const value = headers[name] as string;
    if (!TOKEN.test(name) || FORBIDDEN.test(value))
      throw new TypeError(`header ${JSON.stringify(name)} cannot be sent: a bad name or a control character`);
    const lower = name.toLowerCase();
    if (FRAMING.has(lower)) continue;
    if (lower === 'host') hasHost = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!hasHost) head += `host: ${url.host}\r\n`;
  return `${head}content-length: ${contentLength}\r\nconnection: keep-alive\r\n\r\n`;
}
