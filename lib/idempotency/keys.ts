import { sha256Hex } from '../sha256.js';
import type { Operation } from '../operation.js';

/** (SellerId, FromApp, RequestId) identifies an operation, whatever trigger delivers it. */
export function keyOf(sellerId: string, fromApp: string, requestId: string): string {
  return sha256Hex(JSON.stringify([sellerId, fromApp, requestId]));
}

export const operationKey = (op: Operation): string => keyOf(op.sellerId.digits, op.fromApp, op.requestId);

/** What must match for a redelivery to be the same operation: template, bid, operator and the ordered recipients. */
export function contentHash(op: Operation): string {
  const canonical = [
    op.templateId.digits,
    op.bid ? op.bid.digits : null,
    op.operator ?? null,
    op.recipients.map((r) => [r.uid.digits, r.amountText]),
  ];
  return sha256Hex(JSON.stringify(canonical));
}
