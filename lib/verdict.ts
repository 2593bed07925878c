import type { RecipientResult } from './operation.js';

export interface Verdict {
  httpStatus: number;
  success: boolean;
  code: string;
  message: string;
  /** Some recipients are still owed and were provably never issued: delivering the operation again helps. */
  retryable: boolean;
  retryAfterSeconds?: number;
}

const isGuardrail = (code: string | undefined) => code?.startsWith('Guardrail.') ?? false;

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * The verdict on an executed operation, from its per-recipient results alone. Once anything may have been
 * issued the answer is 200 with the statuses; an error status only ever means nothing was issued.
 */
export function verdictOf(results: readonly RecipientResult[], retryAfterSeconds = 1): Verdict {
  const count = { SENT: 0, FAILED: 0, UNKNOWN: 0, DRY_RUN: 0 };
  for (const r of results) count[r.status] += 1;
  const owed = results.filter((r) => r.status === 'FAILED' && r.retryable);
  // A platform redelivery soon after cannot get past a guardrail: only the caller (or tomorrow's budget) can.
  const retryable = owed.some((r) => !isGuardrail(r.code));
  if (count.DRY_RUN === results.length) {
    return {
      httpStatus: 200,
      success: true,
      code: 'DryRun',
      message: 'DRY_RUN is on: the request is valid and was logged; nothing was sent',
      retryable: false,
    };
  }
  if (count.SENT === results.length)
    return { httpStatus: 200, success: true, code: 'success', message: 'success', retryable: false };
  if (count.SENT + count.UNKNOWN > 0) {
    if (count.UNKNOWN === results.length) {
      return {
        httpStatus: 200,
        success: false,
        code: 'UnknownOutcome',
        retryable: false,
        message: `${plural(count.UNKNOWN, 'recipient')} may or may not have been issued a coupon; they are never re-sent automatically: run coupon reconcile --request-id <this RequestId> to settle them (GetCouponPage)`,
      };
    }
    const parts = [`${count.SENT} sent`, `${count.FAILED} failed`, `${count.UNKNOWN} unknown`].filter(
      (p) => !p.startsWith('0 '),
    );
    return {
      httpStatus: 200,
      success: false,
      code: 'PartialFailure',
      retryable,
      message: `${parts.join(', ')}${owed.length > 0 ? `; ${plural(owed.length, 'recipient')} not sent yet will be sent when the same request is delivered again` : ''}`,
    };
  }
  const first = owed[0];
  if (first) {
    const code = first.code ?? 'NotAttempted';
    const message = first.message ?? 'not sent';
    if (/^Throttling/i.test(code))
      return {
        httpStatus: 429,
        success: false,
        code,
        message: `${message} (nothing was issued; retry with the same RequestId)`,
        retryable,
        retryAfterSeconds,
      };
    if (isGuardrail(code)) return { httpStatus: 422, success: false, code, message, retryable };
    if (code === 'DeadlineExceeded' || code === 'NotAttempted')
      return { httpStatus: 503, success: false, code, message, retryable, retryAfterSeconds };
    return { httpStatus: 502, success: false, code, message: `the upstream refused the call: ${message}`, retryable };
  }
  const rejected = results.find((r) => r.status === 'FAILED');
  return {
    httpStatus: 422,
    success: false,
    code: rejected?.code ?? 'Upstream.Rejected',
    message: rejected?.message ?? 'the upstream rejected the request',
    retryable: false,
  };
}
