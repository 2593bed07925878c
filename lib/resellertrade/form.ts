import { escape } from 'node:querystring';
import type { Operation, Recipient } from '../operation.js';

/**
 * The SendCoupon form body exactly as the official SDK builds it (`OpenApiUtil.toForm`): top-level fields,
 * then `UserAmountModelList.N.Uid` / `.Amount`, N from 1, values escaped by Node's querystring. Ids go out as
 * the caller's digits, never through a JS number.
 */
export function buildSendCouponForm(
  op: Operation,
  recipients: readonly Recipient[],
  upstreamRequestId: string,
): string {
  const pairs: Array<[string, string]> = [
    ['SellerId', op.sellerId.digits],
    ['TemplateId', op.templateId.digits],
    ['RequestId', upstreamRequestId],
    ['FromApp', op.fromApp],
  ];
  if (op.bid) pairs.push(['Bid', op.bid.digits]);
  if (op.operator !== undefined) pairs.push(['Operator', op.operator]);
  recipients.forEach((r, i) => {
    pairs.push([`UserAmountModelList.${i + 1}.Uid`, r.uid.digits]);
    pairs.push([`UserAmountModelList.${i + 1}.Amount`, r.amountText]);
  });
  return pairs.map(([k, v]) => `${escape(k)}=${escape(v)}`).join('&');
}

export interface CouponPageQuery {
  sellerId: string;
  templateId?: string;
  uids?: string[];
  pageNo?: number;
  pageSize?: number;
}

export function buildGetCouponPageForm(q: CouponPageQuery): string {
  const pairs: Array<[string, string]> = [['SellerId', q.sellerId]];
  if (q.templateId !== undefined) pairs.push(['TemplateId', q.templateId]);
  (q.uids ?? []).forEach((uid, i) => pairs.push([`Uids.${i + 1}`, uid]));
  pairs.push(['PageNo', String(q.pageNo ?? 1)], ['PageSize', String(q.pageSize ?? 20)]);
  return pairs.map(([k, v]) => `${escape(k)}=${escape(v)}`).join('&');
}

/** The upstream RequestId of chunk n (from 1): the operation's own when it is sent in one call. */
export function chunkRequestId(requestId: string, chunk: number, chunkCount: number): string {
  return chunkCount === 1 ? requestId : `${requestId}-${chunk}`;
}
