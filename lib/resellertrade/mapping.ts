import { jsonText, JsonSyntaxError, parseJsonExact, UnreadableNumber } from '../json.js';
import type { CouponId } from '../operation.js';
import { maskDigitRuns, quote } from '../redact.js';
import { retryAfterMs } from './server-wait.js';

/**
 * What one upstream attempt proved. Everything about retry safety follows from `kind`:
 * - `ok`: the call acted; `items` are the per-uid confirmations, and a recipient they do not name is not
 *   confirmed (UNKNOWN), so an answer without a list confirms nobody;
 * - `rejected`: the call was refused and issued nothing; `retry` says whether and how another attempt may help,
 *   `blame` whether the refusal is about the content (`content`: final) or about the caller (`caller`: still owed);
 * - `unknown`: the request may have been executed (timeout, 5xx, broken answer after the request was written).
 */
export type UpstreamOutcome =
  | {
      kind: 'ok';
      upstreamRequestId?: string;
      /** The recipients the answer names; only these are confirmed issued. */
      items?: ConfirmedItem[];
      /** Set when the answer said Success: false yet named issued coupons: a partial issue. */
      partial?: { code: string; message: string };
      httpStatus: number;
    }
  | {
      kind: 'rejected';
      retry: RetryReason | 'none';
      blame: 'content' | 'caller';
      code: string;
      message: string;
      upstreamRequestId?: string;
      hostId?: string;
      retryAfterMs?: number;
      httpStatus?: number;
    }
  | {
      kind: 'unknown';
      code: string;
      message: string;
      upstreamRequestId?: string;
      hostId?: string;
      httpStatus?: number;
    };

export type RetryReason = 'throttled' | 'nonce' | 'timestamp' | 'token' | 'connection';

export interface ConfirmedItem {
  uid: string;
  youhuiId?: CouponId;
}

/** A coupon id as the upstream wrote it: a string stays a string, a number keeps every digit. */
function couponId(v: unknown): CouponId | undefined {
  if (typeof v === 'string') return { text: v, kind: 'string' };
  if (typeof v === 'number') return { text: String(v), kind: 'number' };
  if (v instanceof UnreadableNumber) return { text: v.text, kind: 'number' };
  return undefined;
}

type Json = Record<string, unknown>;

const text = jsonText;

function pick(body: Json, ...names: string[]): unknown {
  for (const n of names) if (body[n] !== undefined) return body[n];
  return undefined;
}

/** Codes that the gateway answers before the API runs: nothing was executed, so they are safe to repeat. */
export function retryReasonFor(code: string): RetryReason | undefined {
  if (/^Throttling/i.test(code) || code === 'Rejected.Throttling' || code === 'ServiceUnavailable.Throttling')
    return 'throttled';
  if (code === 'SignatureNonceUsed') return 'nonce';
  if (code === 'InvalidTimeStamp.Expired') return 'timestamp';
  if (code === 'InvalidSecurityToken.Expired') return 'token';
  return undefined;
}

/** Refusals of the caller rather than of the content (the retryable ones are named by retryReasonFor). */
const REFUSED = [
  /^SignatureDoesNotMatch$/,
  /^IncompleteSignature$/,
  /^InvalidAccessKeyId/,
  /^InvalidSecurityToken/,
  /^InvalidTimeStamp/,
  /^Forbidden/,
  /^NoPermission/,
  /^InvalidApi\.NotFound$/,
  /^InvalidProduct\.NotFound$/,
  /^InvalidVersion/,
  /^InvalidAction/,
  /^UnsupportedSignature/,
  /^MissingSecurityToken/,
];

function isRefusal(code: string, status: number): boolean {
  return status === 401 || status === 403 || REFUSED.some((r) => r.test(code));
}

function items(body: Json): ConfirmedItem[] | undefined {
  const list = pick(body, 'Data', 'data', 'userAmountModelList', 'UserAmountModelList');
  const nested =
    list !== null && typeof list === 'object' && !Array.isArray(list)
      ? pick(list as Json, 'List', 'list', 'Items')
      : list;
  if (!Array.isArray(nested)) return undefined;
  const out: ConfirmedItem[] = [];
  for (const entry of nested) {
    if (entry === null || typeof entry !== 'object') continue;
    const e = entry as Json;
    const uid = text(pick(e, 'Uid', 'uid', 'UserId', 'userId'));
    if (uid === undefined) continue;
    const youhuiId =
      couponId(pick(e, 'YouhuiId', 'youhuiId', 'CouponId', 'couponId')) ?? couponId(pick(body, 'youhuiId', 'YouhuiId'));
    out.push(youhuiId === undefined ? { uid } : { uid, youhuiId });
  }
  return out;
}

/** Maps one HTTP answer of the ResellerTrade API to an outcome; pure, so every shape is testable without a server. */
export function classifyResponse(
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  rawBody: string,
): UpstreamOutcome {
  let body: Json | undefined;
  try {
    const parsed = parseJsonExact(rawBody);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Json;
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
  }
  const upstreamRequestId = body ? text(pick(body, 'RequestId', 'requestId')) : undefined;
  const hostId = body ? text(pick(body, 'HostId')) : undefined;
  const ids = {
    ...(upstreamRequestId === undefined ? {} : { upstreamRequestId }),
    ...(hostId === undefined ? {} : { hostId }),
  };
  if (body === undefined) {
    const snippet = maskDigitRuns(quote(rawBody.replace(/\s+/g, ' ')));
    if (status >= 400 && status < 500) {
      return {
        kind: 'rejected',
        retry: status === 429 ? 'throttled' : 'none',
        blame: 'caller',
        code: `Upstream.Http${status}`,
        message: `the upstream answered HTTP ${status} with a body that is not JSON: "${snippet}"`,
        httpStatus: status,
      };
    }
    return {
      kind: 'unknown',
      code: status >= 500 ? `Upstream.Http${status}` : 'Upstream.InvalidResponse',
      message: `the upstream answered HTTP ${status} with a body that is not JSON: "${snippet}"`,
      httpStatus: status,
    };
  }

  const code = text(pick(body, 'Code', 'code')) ?? '';
  const said = text(pick(body, 'Message', 'message')) ?? '';
  const message = said.length < 8 ? said : maskDigitRuns(said);
  if (status >= 200 && status < 300) {
    const success = pick(body, 'Success', 'success');
    if (success === true || (success === undefined && (code === '' || /^(success|200|OK)$/i.test(code)))) {
      const confirmed = items(body);
      return { kind: 'ok', ...ids, ...(confirmed === undefined ? {} : { items: confirmed }), httpStatus: status };
    }
    // Success:false on a 2xx is the API's own verdict on the content: nothing was issued, unless it names coupons.
    const issued = items(body)?.filter((i) => i.youhuiId !== undefined);
    if (issued && issued.length > 0) {
      const partial = {
        code: code || 'Upstream.Unsuccessful',
        message: message || 'the upstream answered Success: false',
      };
      return { kind: 'ok', ...ids, items: issued, partial, httpStatus: status };
    }
    return {
      kind: 'rejected',
      retry: retryReasonFor(code) ?? 'none',
      blame: 'content',
      code: code || 'Upstream.Unsuccessful',
      message: message || 'the upstream answered Success: false',
      ...ids,
      httpStatus: status,
    };
  }
  if (status >= 500) {
    return {
      kind: 'unknown',
      code: code || `Upstream.Http${status}`,
      message: message || `the upstream answered HTTP ${status}`,
      ...ids,
      httpStatus: status,
    };
  }
  const reason = retryReasonFor(code) ?? (status === 429 ? 'throttled' : undefined);
  const after = retryAfterMs(headers);
  return {
    kind: 'rejected',
    retry: reason ?? 'none',
    blame: isRefusal(code, status) || reason !== undefined ? 'caller' : 'content',
    code: code || `Upstream.Http${status}`,
    message: message || `the upstream answered HTTP ${status}`,
    ...ids,
    ...(after === undefined ? {} : { retryAfterMs: after }),
    httpStatus: status,
  };
}
