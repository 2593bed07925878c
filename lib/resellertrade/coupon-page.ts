import type { Credentials, ResellerTradeClient } from './client.js';
import { buildGetCouponPageForm, type CouponPageQuery } from './form.js';
import { jsonText, parseJsonExact } from '../json.js';
import type { UpstreamOutcome } from './mapping.js';

export interface IssuedCoupon {
  youhuiId: string;
  uid: string;
  templateId?: string;
  amount?: number;
}

export type CouponPage =
  | { ok: true; total: number; coupons: IssuedCoupon[] }
  | { ok: false; outcome: Exclude<UpstreamOutcome, { kind: 'ok' }> };

const digits = jsonText;

/**
 * GetCouponPage: what was issued to which uids under a template. This is how an UNKNOWN recipient is checked
 * before anyone decides to send it again. A read, so it is safe to repeat.
 */
export async function getCouponPage(
  client: ResellerTradeClient,
  query: CouponPageQuery,
  credentials: Credentials,
  timeoutMs: number,
): Promise<CouponPage> {
  const { outcome, raw } = await client.call('GetCouponPage', buildGetCouponPageForm(query), credentials, timeoutMs);
  if (outcome.kind !== 'ok') return { ok: false, outcome };
  const body = parseJsonExact(raw ?? '{}') as Record<string, unknown>;
  const data = (body['Data'] ?? {}) as Record<string, unknown>;
  const list = Array.isArray(data['List']) ? (data['List'] as Array<Record<string, unknown>>) : [];
  const coupons: IssuedCoupon[] = [];
  for (const item of list) {
    const youhuiId = digits(item['YouhuiId']);
    const uid = digits(item['Uid']);
    if (youhuiId === undefined || uid === undefined) continue;
    const templateId = digits(item['TemplateId']);
    coupons.push({
      youhuiId,
      uid,
      ...(templateId === undefined ? {} : { templateId }),
      ...(typeof item['Amount'] === 'number' ? { amount: item['Amount'] } : {}),
    });
  }
  return { ok: true, total: typeof data['Total'] === 'number' ? data['Total'] : coupons.length, coupons };
}
