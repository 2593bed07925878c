import type { Operation, RecipientResult } from '../operation.js';

/** Where chunk n's per-recipient results are written: one object per chunk, so a retry overwrites its own file. */
export const chunkResultsKey = (prefix: string, campaignId: string, n: number): string =>
  `${prefix.replace(/\/?$/, '/')}${campaignId}/results/${String(n).padStart(6, '0')}.jsonl`;

/** One line of a results file. Ids are strings of their exact digits; the file is the campaign's own record. */
export interface ResultLine {
  uid: string;
  amount: string;
  status: RecipientResult['status'];
  youhuiId?: string;
  code?: string;
  message?: string;
}

/**
 * The results of a chunk's operation as JSONL, in the order of its recipients. UNKNOWN lines are what
 * `coupon reconcile` takes; uids are whole here (this file is not an answer), and masked when shown.
 */
export function chunkResultsJsonl(operation: Operation, results: readonly RecipientResult[]): Buffer {
  if (results.length !== operation.recipients.length)
    throw new Error(`${results.length} results for ${operation.recipients.length} recipients`);
  const lines = operation.recipients.map((recipient, i) => {
    const r = results[i];
    const line: ResultLine = {
      uid: recipient.uid.digits,
      amount: recipient.amountText,
      status: r?.status ?? 'UNKNOWN',
    };
    if (r?.youhuiId) line.youhuiId = r.youhuiId.text;
    if (r?.code !== undefined) line.code = r.code;
    if (r?.message !== undefined) line.message = r.message;
    return JSON.stringify(line);
  });
  return Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '');
}
