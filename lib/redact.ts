/** What may be repeated back to a caller or written to a log: uids masked, quoted values bounded. */

/** The longest part of an invalid value an answer or a log line quotes (docs/requests.md). */
export const MAX_QUOTE = 64;

/** `1918000000883` → `1918******883`, as the SendCoupon documentation prints uids. */
export function maskUid(digits: string): string {
  if (digits.length <= 7) return '*'.repeat(digits.length);
  return `${digits.slice(0, 4)}${'*'.repeat(digits.length - 7)}${digits.slice(-3)}`;
}

/** At most MAX_QUOTE characters of a value, marked when cut. */
export function quote(value: string): string {
  const chars = Array.from(value);
  return chars.length <= MAX_QUOTE ? value : `${chars.slice(0, MAX_QUOTE).join('')}…`;
}

/** Every run of 8 or more digits in free text masked as a uid, for messages that might carry one. */
export function maskDigitRuns(text: string): string {
  return text.replace(/\d{8,}/g, maskUid);
}
