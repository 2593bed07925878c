/**
 * A failure below HTTP. `written` is the line between safe and unknown: while no byte of the request can have
 * reached the server (the connection or its TLS handshake failed, or the request had not been handed to a
 * connected socket), the server cannot have acted on it; after that, it may have. `message` is ours, fit for an
 * answer; `detail` is the library's own text (paths, OpenSSL's words) and belongs in logs only.
 */
export class TransportError extends Error {
  constructor(
    readonly written: boolean,
    readonly code: string,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

const ERRNO: Record<string, string> = {
  ECONNREFUSED: 'the upstream refused the connection',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection closed while the request was being written',
  ETIMEDOUT: 'the connection to the upstream timed out',
  ENOTFOUND: "the upstream's host name could not be resolved",
  EAI_AGAIN: "the upstream's host name could not be resolved",
  EHOSTUNREACH: "the upstream's network could not be reached",
  ENETUNREACH: "the upstream's network could not be reached",
  ENETDOWN: "the upstream's network could not be reached",
  EHOSTDOWN: "the upstream's network could not be reached",
  EADDRNOTAVAIL: 'no local address was available to reach the upstream',
};

/** Certificate checks that failed: the chain, the name, the dates. */
const CERTIFICATE =
  /^(?:CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO_SELF_SIGNED|ERR_TLS_CERT_ALTNAME|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH)/;

/** Our code and words for what node:http, node:net or node:tls threw. */
export function describe(err: unknown): { code: string; message: string } {
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : '';
  // Node says "socket hang up" (code ECONNRESET, no syscall) when the peer closed cleanly before answering.
  if (code === 'ECONNRESET' && e.syscall === undefined)
    return { code: 'ConnectionClosed', message: 'the connection closed without an answer' };
  const errno = ERRNO[code];
  if (errno !== undefined) return { code, message: errno };
  if (CERTIFICATE.test(code))
    return { code: 'CertificateRejected', message: "the upstream's certificate was not accepted" };
  if (/^ERR_(?:SSL|TLS)_/.test(code) || /SSL|TLS/i.test(e?.message ?? ''))
    return { code: 'TlsFailure', message: 'the TLS handshake with the upstream failed' };
  if (code === 'HPE_HEADER_OVERFLOW') return { code: 'ResponseTooLarge', message: "the answer's head exceeds 64 KiB" };
  if (code.startsWith('HPE_')) return { code: 'BadResponse', message: 'the answer is not well-formed HTTP' };
  return { code: 'NetworkError', message: 'the connection to the upstream failed' };
}

export function transportError(written: boolean, err: unknown): TransportError {
  const { code, message } = describe(err);
  return new TransportError(written, code, message, err instanceof Error ? err.message : String(err));
}
