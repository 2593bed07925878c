import { sha256Hex } from '../sha256.js';

/** Where an operation's RequestId comes from when the request carries none (docs/requests.md). */
export type RequestIdRule =
  | { kind: 'required' }
  | { kind: 'default'; value: string }
  | { kind: 'timer'; triggerName: string; triggerTime: string };

export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const OUTSIDE = /[^A-Za-z0-9._:-]/g;

/** Characters outside the allowed set become `_`; one longer than 64 keeps 55 characters, `.` and 8 hex of its SHA-256. */
export function deriveRequestId(raw: string): string {
  const cleaned = raw.replace(OUTSIDE, '_');
  if (cleaned.length <= 64) return cleaned;
  return `${cleaned.slice(0, 55)}.${sha256Hex(cleaned).slice(0, 8)}`;
}

/**
 * The operation's RequestId: the request's own, else the one its trigger implies (`index` numbers batch
 * elements from 0). Undefined only when the rule requires the request to carry one and it does not.
 */
export function requestIdFor(own: string | undefined, rule: RequestIdRule, index?: number): string | undefined {
  const suffix = index === undefined ? '' : `:${index + 1}`;
  switch (rule.kind) {
    case 'required':
      return own;
    case 'default':
      return own ?? deriveRequestId(`${rule.value}${suffix}`);
    case 'timer':
      return deriveRequestId(`${own ?? `${rule.triggerName}${suffix}`}:${rule.triggerTime}`);
  }
}
