import type { Env } from '../lib/config.js';
import { keyOf } from '../lib/idempotency/keys.js';
import { EXIT, exitForStatuses, UsageError } from './exit.js';
import { placeOf, viewOf } from '../lib/operations/view.js';
import { table, uidFor, type Output } from './print.js';
import { findOperation, openRecords, type Records } from './records.js';
import { inline } from './terminal.js';

export interface StatusOptions {
  'request-id'?: string;
  seller?: string;
  'from-app'?: string;
  store?: string;
}

/** Where a recipient sent again went: its status under the resend's RequestId, read from that record. */
interface Resend {
  RequestId: string;
  status: string;
  youhuiId?: string;
}

async function resendsOf(records: Records, seller: string, fromApp: string, ids: ReadonlySet<string>) {
  const found = new Map<string, ReturnType<typeof viewOf> | undefined>();
  for (const id of ids) {
    const checked = await records.get(keyOf(seller, fromApp, id));
    found.set(id, checked?.ok ? viewOf(checked.record, Date.now()) : undefined);
  }
  return found;
}

/** `coupon status`: one operation's record, as the store holds it, and where any resent recipient went. */
export async function status(o: StatusOptions, env: Env, output: Output): Promise<number> {
  const requestId = o['request-id'];
  if (!requestId) throw new UsageError('--request-id is required');
  const records = await openRecords(o.store, env);
  try {
    const found = await findOperation(
      records,
      requestId,
      o.seller ?? env['SELLER_ID'],
      o['from-app'] ?? env['FROM_APP'],
      output.note,
    );
    const view = viewOf(found.record, Date.now());
    const resentAs = view.op.recipients.map((_, i) => {
      const { settled } = placeOf(found.record, i);
      return settled && !settled.issued ? settled.resentAs : undefined;
    });
    const resends = await resendsOf(
      records,
      view.op.sellerId.digits,
      view.op.fromApp,
      new Set(resentAs.filter((x): x is string => x !== undefined)),
    );
    const recipients = view.op.recipients.map((r, i) => {
      const res = view.results[i];
      const as = resentAs[i];
      let resent: Resend | undefined;
      if (as !== undefined) {
        const other = resends.get(as);
        const j = other?.op.recipients.findIndex((x) => x.uid.digits === r.uid.digits) ?? -1;
        const result = j >= 0 ? other?.results[j] : undefined;
        resent = {
          RequestId: as,
          status: result?.status ?? 'NOT FOUND',
          ...(result?.youhuiId ? { youhuiId: result.youhuiId.text } : {}),
        };
      }
      return {
        uid: uidFor(output, r.uid.digits),
        amount: r.amountText,
        status: res?.status ?? 'UNKNOWN',
        ...(res?.youhuiId ? { youhuiId: res.youhuiId.text } : {}),
        ...(res?.code ? { Code: res.code } : {}),
        ...(resent ? { resent } : {}),
      };
    });
    const id = inline(view.op.requestId);
    if (output.json) {
      output.out(
        JSON.stringify({
          RequestId: view.op.requestId,
          SellerId: view.op.sellerId.digits,
          FromApp: view.op.fromApp,
          TemplateId: view.op.templateId.digits,
          state: view.state,
          ...(view.leaseUntil ? { leaseUntil: view.leaseUntil } : {}),
          chunks: view.chunks,
          recipients,
        }),
      );
    } else {
      const lease = view.leaseUntil ? ` (a delivery holds it until ${view.leaseUntil})` : '';
      output.out(
        `${id}: ${view.state}${lease}, seller ${view.op.sellerId.digits}, template ${view.op.templateId.digits}, from ${inline(view.op.fromApp)}\n`,
      );
      output.out(
        table(
          ['chunk', 'upstream RequestId', 'state', 'Code'],
          view.chunks.map((c) => [String(c.chunk), c.upstreamRequestId, c.state, c.code ?? '']),
        ),
      );
      output.out('');
      output.out(
        table(
          ['uid', 'amount', 'status', 'youhuiId', 'Code', 'sent again as'],
          recipients.map((r) => [
            r.uid,
            r.amount,
            r.status,
            r.youhuiId ?? '',
            r.Code ?? '',
            r.resent
              ? `${r.resent.RequestId}: ${r.resent.status}${r.resent.youhuiId ? ` ${r.resent.youhuiId}` : ''}`
              : '',
          ]),
        ),
      );
    }
    // A recipient sent again counts as what its resend became.
    const effective = recipients.map((r) => (r.resent && r.resent.status !== 'NOT FOUND' ? r.resent.status : r.status));
    if (view.state !== 'COMPLETED' && effective.some((s) => s === 'FAILED' || s === 'UNKNOWN')) {
      output.note(
        `${id}: ${view.state === 'RUNNING' ? 'a delivery is sending it now' : 'not finished'}; sending the same request again completes it`,
      );
    }
    if (effective.some((s) => s === 'UNKNOWN'))
      output.note(`${id}: some outcomes are UNKNOWN; run coupon reconcile --request-id ${id} to settle them`);
    else if (recipients.some((r) => r.Code === 'NeverIssued' && !r.resent))
      output.note(
        `${id}: some recipients were never issued; run coupon reconcile --request-id ${id} --resend to send them`,
      );
    return view.state === 'RUNNING' && effective.some((s) => s !== 'SENT') ? EXIT.unknown : exitForStatuses(effective);
  } finally {
    await records.close();
  }
}
