/** The one domain type every trigger decodes into, and the per-recipient results every answer is built from. */

export type JsonKind = 'number' | 'string';

/** An id as canonical digits (no leading zeros), with the JSON type the caller used, so it is answered in kind. */
export interface ExactId {
  digits: string;
  kind: JsonKind;
}

/** A coupon id exactly as the upstream wrote it: opaque text, answered with the JSON type it came in. */
export interface CouponId {
  text: string;
  kind: JsonKind;
}

export interface Recipient {
  uid: ExactId;
  amount: number;
  /** The amount in plain decimal form (`8.88`, `100`), as it is sent upstream. */
  amountText: string;
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

/** What an answer about an operation names it by, even when the request was too broken to become one. */
export interface OperationRef {
  form: AnswerForm;
  requestId?: string;
  fromApp?: string;
}

export type RecipientStatus = 'SENT' | 'FAILED' | 'UNKNOWN' | 'DRY_RUN';

export interface RecipientResult {
  status: RecipientStatus;
  youhuiId?: CouponId;
  code?: string;
  message?: string;
  /** FAILED but provably never issued and still owed: delivering the same operation again sends it. */
  retryable?: boolean;
}

export const refOf = (op: Operation): OperationRef => ({ form: op.form, requestId: op.requestId, fromApp: op.fromApp });
