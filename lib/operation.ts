/** The one domain type every trigger decodes into, and the per-recipient results every answer is built from. */

export type JsonKind = 'number' | 'string';

/** An id kept as the caller's digits, with the JSON type it came in, so it can be answered in kind. */
export interface ExactId {
  digits: string;
  kind: JsonKind;
}

export interface Recipient {
  uid: ExactId;
  amount: number;
}

export type AnswerForm = 'flat' | 'envelope';

export interface Operation {
  sellerId: ExactId;
  templateId: ExactId;
  requestId: string;
  fromApp: string;
  bid?: ExactId;
  operator?: string;
  recipients: Recipient[];
  form: AnswerForm;
}

export type RecipientStatus = 'SENT' | 'FAILED' | 'UNKNOWN' | 'DRY_RUN';

export interface RecipientResult {
  status: RecipientStatus;
  youhuiId?: ExactId;
  code?: string;
  message?: string;
  /** FAILED but provably never issued and still owed: delivering the same operation again sends it. */
  retryable?: boolean;
}

/** Same number whatever leading zeros the caller wrote, for equality only; the caller's digits are what is sent. */
export function canonicalDigits(id: ExactId): string {
  return id.digits.replace(/^0+(?=\d)/, '');
}

/** `1918000000883` → `1918******883`, as the SendCoupon documentation prints uids. */
export function maskUid(digits: string): string {
  if (digits.length <= 7) return '*'.repeat(digits.length);
  return `${digits.slice(0, 4)}${'*'.repeat(digits.length - 7)}${digits.slice(-3)}`;
}
