import type { Env } from '../lib/config.js';
import { viewOf } from './operation-view.js';
import { EXIT, table, uidFor, type Output } from './print.js';
import { findOperation, openRecords } from './records.js';

export interface StatusOptions {
  'request-id'?: string;
  seller?: string;
  'from-app'?: string;
  store?: string;
}

/** `coupon status`: one operation's record, as the store holds it. */
export async function status(o: StatusOptions, env: Env, output: Output): Promise<number> {
  const requestId = o['request-id'];
  if (!requestId) {
    output.progress('coupon status: --request-id is required (see --help)');
    return EXIT.usage;
  }
  const records = await openRecords(o.store, env);
  try {
    const found = await findOperation(
      records,
      requestId,
      o.seller ?? env['SELLER_ID'],
      o['from-app'] ?? env['FROM_APP'],
    );
    const view = viewOf(found.record, Date.now());
    const recipients = view.op.recipients.map((r, i) => {
      const res = view.results[i];
      return {
        uid: uidFor(output, r.uid.digits),
        amount: r.amountText,
        status: res?.status ?? 'UNKNOWN',
        ...(res?.youhuiId ? { youhuiId: res.youhuiId.text } : {}),
        ...(res?.code ? { Code: res.code } : {}),
      };
    });
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
        `${view.op.requestId}: ${view.state}${lease}, seller ${view.op.sellerId.digits}, template ${view.op.templateId.digits}, from ${view.op.fromApp}\n`,
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
          ['uid', 'amount', 'status', 'youhuiId', 'Code'],
          recipients.map((r) => [r.uid, r.amount, r.status, r.youhuiId ?? '', r.Code ?? '']),
        ),
      );
    }
    const statuses = recipients.map((r) => r.status);
    if (statuses.every((s) => s === 'SENT')) return EXIT.ok;
    return statuses.every((s) => s === 'FAILED') ? EXIT.failed : EXIT.partial;
  } finally {
    await records.close();
  }
}
