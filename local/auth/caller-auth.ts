import type http from 'node:http';
import { ACS3_ALWAYS_SIGNED, ACS_HEADER, ACS_MAX_SKEW_MS } from '../../lib/acs/constants.js';
import { verifyV3 } from './verify-v3.js';

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

const refuse = (status: 401 | 403 | 429, code: string, message: string): CallerVerdict => ({
  ok: false,
  status,
  code,
  message,
});

/**
 * The caller check FC's `function` auth makes before an HTTP-triggered function runs, for the local gateway
 * (LOCAL_AUTH=function): ACS3-HMAC-SHA256 over the request itself (method, path, query, the headers the caller
 * lists in SignedHeaders, which must include host, x-acs-date, x-acs-signature-nonce and x-acs-content-sha256,
 * and the body's SHA-256). Missing or malformed Authorization: 401. Unknown key, wrong signature, a reused
 * nonce, a date more than 15 minutes off, a body that is not the one signed: 403.
 */
export function createCallerAuth(keys: ReadonlyMap<string, string>, now: () => number = Date.now) {
  const nonces = new Map<string, number>();
  const forgetOld = (t: number) => {
    // Nonces are kept in arrival order: the expired ones are all at the front.
    for (const [nonce, seen] of nonces) {
      if (t - seen <= ACS_MAX_SKEW_MS) break;
      nonces.delete(nonce);
    }
  };

  return function check(req: {
    method: string;
    url: URL;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
  }): CallerVerdict {
    const headers = headerMap(req.headers);
    if (!headers['authorization'])
      return refuse(401, 'MissingAuthorization', 'This endpoint needs an ACS3-HMAC-SHA256 signed request.');
    const query = Object.fromEntries(req.url.searchParams);
    const verdict = verifyV3(
      { method: req.method, pathname: req.url.pathname, query, headers, body: req.body },
      (id) => keys.get(id),
      ACS3_ALWAYS_SIGNED,
    );
    if (!verdict.ok) {
      if (verdict.code === 'IncompleteSignature') return refuse(401, 'InvalidAuthorization', verdict.message);
      if (verdict.code === 'InvalidAccessKeyId.NotFound')
        return refuse(403, verdict.code, 'The access key is not known.');
      return refuse(403, verdict.code, verdict.message);
    }
    const date = headers[ACS_HEADER.date] ?? '';
    const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(date) ? Date.parse(date) : NaN;
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
    forgetOld(t);
    const nonce = headers[ACS_HEADER.nonce] ?? '';
    if (nonces.has(nonce)) return refuse(403, 'SignatureNonceUsed', 'This signature nonce was already used.');
    if (nonces.size >= MAX_NONCES) {
      return refuse(429, 'TooManyRequests', 'Too many signed requests in the last 15 minutes; retry later.');
    }
    nonces.set(nonce, t);
    return { ok: true, accessKeyId: verdict.accessKeyId };
  };
}

export type CallerAuth = ReturnType<typeof createCallerAuth>;
