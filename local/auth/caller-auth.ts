import type http from 'node:http';
import { ACS3_ALWAYS_SIGNED, ACS_HEADER, ACS_MAX_SKEW_MS } from '../../lib/acs/constants.js';
import { sha256Hex } from '../../lib/sha256.js';
import { NonceWindow } from './nonce-window.js';
import { verifyV3Head } from './verify-v3.js';

export type CallerVerdict =
  { ok: true; accessKeyId: string } | { ok: false; status: 401 | 403 | 429; code: string; message: string };

/** Nonces remembered at once at the most; past it signed calls are refused (429) rather than replays let in. */
const MAX_NONCES = 100_000;

/** `id:secret[,id:secret…]` as LOCAL_CALLER_KEYS holds them; problems are named, secrets never. */
export function parseCallerKeys(raw: string): Map<string, string> | string {
  const keys = new Map<string, string>();
  for (const pair of raw.split(',')) {
    const at = pair.indexOf(':');
    const id = pair.slice(0, at).trim();
    const secret = pair.slice(at + 1).trim();
    if (at < 1 || id === '' || secret === '') return 'LOCAL_CALLER_KEYS must be id:secret pairs separated by commas';
    keys.set(id, secret);
  }
  return keys;
}

const headerMap = (headers: http.IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
};

type Refusal = Extract<CallerVerdict, { ok: false }>;

const refuse = (status: 401 | 403 | 429, code: string, message: string): Refusal => ({
  ok: false,
  status,
  code,
  message,
});

/** What the check reads before any of the body: the request line and headers exactly as they arrived. */
export interface CallerHead {
  method: string;
  /** The request target as sent (`req.url`), never normalised: path and query are verified as signed. */
  target: string;
  /** The target as the gateway routes it; its path must be the one sent. */
  url: URL;
  headers: http.IncomingHttpHeaders;
  /** `req.rawHeaders`: a header given twice is refused, never merged into something else than was signed. */
  rawHeaders: readonly string[];
}

/** A head whose signature holds; the body must still hash to what the caller signed. */
export interface AcceptedHead {
  ok: true;
  accessKeyId: string;
  contentSha256: string;
}

export interface CallerAuth {
  /** Everything but the body, so a forged or unsigned request is refused before its body is read. */
  head(request: CallerHead): AcceptedHead | Refusal;
  /** The body against the SHA-256 the caller signed. */
  body(head: AcceptedHead, body: Uint8Array): CallerVerdict;
}

const ACS_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Path and query of a request target (origin-form, or absolute-form as a proxy would send it). */
function splitTarget(target: string): { path: string; query: string } {
  const origin = target.startsWith('/') ? target : target.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, '') || '/';
  const q = origin.indexOf('?');
  return q < 0 ? { path: origin, query: '' } : { path: origin.slice(0, q), query: origin.slice(q + 1) };
}

/** Header names given more than once, lower-cased. */
function repeatedHeaders(rawHeaders: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    if (seen.has(name)) repeated.add(name);
    seen.add(name);
  }
  return repeated;
}

/** The query as ACS3 signs it: a map. No Alibaba SDK sends a name twice, so a repeat is refused, not merged. */
function signedQuery(raw: string): Record<string, string> | undefined {
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    if (Object.hasOwn(query, name)) return undefined;
    query[name] = value;
  }
  return query;
}

/**
 * The caller check FC's `function` auth makes before an HTTP-triggered function runs, for the local gateway
 * (LOCAL_AUTH=function): ACS3-HMAC-SHA256 over the request itself (method, path, query, the headers the caller
 * lists in SignedHeaders, which must include host, x-acs-date, x-acs-signature-nonce and x-acs-content-sha256,
 * and the body's SHA-256). Missing or malformed Authorization (or two of them): 401. Unknown key, wrong
 * signature, a path or query other than the one signed, a reused nonce, a date more than 15 minutes off, a body
 * that is not the one signed: 403. A nonce is remembered until its date is out of the window, so a request dated
 * ahead of the clock cannot replay after its nonce is forgotten.
 */
export function createCallerAuth(keys: ReadonlyMap<string, string>, now: () => number = Date.now): CallerAuth {
  const nonces = new NonceWindow();

  const head = (req: CallerHead): AcceptedHead | Refusal => {
    const headers = headerMap(req.headers);
    if (!headers['authorization'])
      return refuse(401, 'MissingAuthorization', 'This endpoint needs an ACS3-HMAC-SHA256 signed request.');
    const repeated = repeatedHeaders(req.rawHeaders);
    if (repeated.has('authorization'))
      return refuse(401, 'InvalidAuthorization', 'The request has more than one Authorization header.');
    const { path, query: rawQuery } = splitTarget(req.target);
    if (path !== req.url.pathname) {
      return refuse(
        403,
        'SignatureDoesNotMatch',
        'The request path is not in normal form (dot segments, repeated or encoded separators); send the path as signed.',
      );
    }
    const query = signedQuery(rawQuery);
    if (query === undefined)
      return refuse(403, 'SignatureDoesNotMatch', 'A query parameter is given more than once; sign and send it once.');
    const verdict = verifyV3Head(
      { method: req.method, pathname: path, query, headers },
      (id) => keys.get(id),
      ACS3_ALWAYS_SIGNED,
    );
    if (!verdict.ok) {
      if (verdict.code === 'IncompleteSignature') return refuse(401, 'InvalidAuthorization', verdict.message);
      if (verdict.code === 'InvalidAccessKeyId.NotFound')
        return refuse(403, verdict.code, 'The access key is not known.');
      return refuse(403, verdict.code, verdict.message);
    }
    const twice = verdict.signedHeaders.find((name) => repeated.has(name));
    if (twice !== undefined)
      return refuse(403, 'SignatureDoesNotMatch', `The signed header ${twice} is given more than once.`);
    const date = headers[ACS_HEADER.date] ?? '';
    const at = ACS_DATE.test(date) ? Date.parse(date) : NaN;
    if (Number.isNaN(at))
      return refuse(401, 'InvalidAuthorization', `${ACS_HEADER.date} must be yyyy-MM-ddTHH:mm:ssZ.`);
    const t = now();
    if (Math.abs(t - at) > ACS_MAX_SKEW_MS) {
      return refuse(
        403,
        'InvalidTimeStamp.Expired',
        `${ACS_HEADER.date} is more than 15 minutes from the gateway's time.`,
      );
    }
    const nonce = headers[ACS_HEADER.nonce] ?? '';
    if (nonces.has(nonce, t)) return refuse(403, 'SignatureNonceUsed', 'This signature nonce was already used.');
    if (nonces.size >= MAX_NONCES) {
      return refuse(
        429,
        'TooManyRequests',
        'Too many signed requests are still within their date window; retry later.',
      );
    }
    nonces.remember(nonce, at + ACS_MAX_SKEW_MS);
    return { ok: true, accessKeyId: verdict.accessKeyId, contentSha256: headers[ACS_HEADER.contentSha256] ?? '' };
  };

  const body = (accepted: AcceptedHead, bytes: Uint8Array): CallerVerdict => {
    if (sha256Hex(bytes) !== accepted.contentSha256)
      return refuse(403, 'SignatureDoesNotMatch', `${ACS_HEADER.contentSha256} does not match the request body.`);
    return { ok: true, accessKeyId: accepted.accessKeyId };
  };

  return { head, body };
}
