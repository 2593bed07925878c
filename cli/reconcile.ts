import { DEFAULT_ENDPOINT, type Env } from '../lib/config.js';
import type { ChunkRecord, Reconciled } from '../lib/idempotency/types.js';
import type { CouponId } from '../lib/operation.js';
import { deriveRequestId } from '../lib/request/request-id.js';
import { createResellerTradeClient, type Credentials } from '../lib/resellertrade/client.js';
import { getCouponPage } from '../lib/resellertrade/coupon-page.js';
import { createHttpTransport } from '../lib/http/transport.js';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from '../local/emulator/defaults.js';
import { exitFor, readAnswer } from './answers.js';
import { viewOf, type OperationView } from './operation-view.js';
import { EXIT, table, uidFor, type Output } from './print.js';
import { findOperation, openRecords, type Records } from './records.js';
import { deliver, targetOf, UsageError, type TargetOptions } from './target.js';

export interface ReconcileOptions extends TargetOptions {
  'request-id'?: string;
  seller?: string;
  'from-app'?: string;
  store?: string;
  resend?: boolean;
  endpoint?: string;
}

type Finding = { uid: string; index: number } & (
  { outcome: 'attributed'; youhuiId: string } | { outcome: 'never-issued' } | { outcome: 'ambiguous'; reason: string }
);

/** GetCouponPage's endpoint and keys: the configured upstream, else the local stack's emulator and its dev key. */
function upstream(o: ReconcileOptions, env: Env): { endpoint: URL; credentials: Credentials } {
  const configured = o.endpoint ?? env['RESELLERTRADE_ENDPOINT'];
  const id = env['ALIBABA_CLOUD_ACCESS_KEY_ID'];
  const secret = env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'];
  if (configured || (id && secret)) {
    if (!id || !secret)
      throw new UsageError('set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET for GetCouponPage');
    const token = env['ALIBABA_CLOUD_SECURITY_TOKEN'];
    return {
      endpoint: new URL(configured ?? DEFAULT_ENDPOINT),
      credentials: { accessKeyId: id, accessKeySecret: secret, ...(token ? { securityToken: token } : {}) },
    };
  }
  return {
    endpoint: new URL(`http://127.0.0.1:${env['EMULATOR_PORT'] || '9100'}`),
    credentials: {
      accessKeyId: env['EMULATOR_ACCESS_KEY_ID'] || DEFAULT_EMULATOR_KEY_ID,
      accessKeySecret: env['EMULATOR_ACCESS_KEY_SECRET'] || DEFAULT_EMULATOR_KEY_SECRET,
      ...(env['EMULATOR_SECURITY_TOKEN'] ? { securityToken: env['EMULATOR_SECURITY_TOKEN'] } : {}),
    },
  };
}

/**
 * For every (uid) of this seller and template: the coupons other operations in the store already account for,
 * and how many other operations are themselves UNKNOWN for it (they could own a coupon found too).
 */
async function othersOf(records: Records, key: string, view: OperationView) {
  const attributed = new Map<string, Set<string>>();
  const unknownOwners = new Map<string, number>();
  for await (const entry of records.list()) {
    const op = entry.record.op;
    if (
      entry.key === key ||
      !op ||
      op.sellerId !== view.op.sellerId.digits ||
      op.templateId !== view.op.templateId.digits
    )
      continue;
    const other = viewOf(entry.record, Date.now());
    other.op.recipients.forEach((r, i) => {
      const res = other.results[i];
      const uid = r.uid.digits;
      if (res?.youhuiId) attributed.set(uid, (attributed.get(uid) ?? new Set()).add(res.youhuiId.text));
      if (res?.status === 'UNKNOWN') unknownOwners.set(uid, (unknownOwners.get(uid) ?? 0) + 1);
    });
  }
  return { attributed, unknownOwners };
}

/**
 * Settles one UNKNOWN recipient: the coupons GetCouponPage shows for it under the template, less those other
 * operations account for. None left: never issued. As many left as operations that could own one (this and
 * the others still UNKNOWN for it): one is this operation's. Anything else would be a guess, and is refused.
 */
function settle(
  uid: string,
  index: number,
  found: readonly string[],
  taken: ReadonlySet<string>,
  owners: number,
): Finding {
  const remaining = found.filter((id) => !taken.has(id)).sort();
  if (remaining.length === 0) return { uid, index, outcome: 'never-issued' };
  if (remaining.length === owners) return { uid, index, outcome: 'attributed', youhuiId: remaining[0] as string };
  return {
    uid,
    index,
    outcome: 'ambiguous',
    reason: `${remaining.length} coupon(s) not accounted for, ${owners} operation(s) that could own them: not all coupons of this template went through this function, or several operations are still UNKNOWN`,
  };
}

/** `coupon reconcile`: settles UNKNOWN recipients with GetCouponPage and, with --resend, sends the never-issued. */
export async function reconcile(o: ReconcileOptions, env: Env, output: Output): Promise<number> {
  const requestId = o['request-id'];
  if (!requestId) throw new UsageError('--request-id is required');
  const records = await openRecords(o.store, env);
  try {
    const { key, record } = await findOperation(
      records,
      requestId,
      o.seller ?? env['SELLER_ID'],
      o['from-app'] ?? env['FROM_APP'],
    );
    const view = viewOf(record, Date.now());
    if (view.state === 'RUNNING')
      throw new UsageError(`a delivery still holds ${requestId} (until ${view.leaseUntil}); reconcile after it ends`);
    const unknown = view.results.flatMap((r, i) => (r.status === 'UNKNOWN' ? [i] : []));
    // Found never issued by an earlier reconcile and not sent again yet: --resend sends them too.
    const earlier: Finding[] = view.op.recipients.flatMap((r, i) => {
      const n = Math.floor(i / record.chunkSize) + 1;
      const settled = record.chunks[n]?.reconciled?.[i - (n - 1) * record.chunkSize];
      return settled && !settled.issued && !settled.resentAs
        ? [{ uid: r.uid.digits, index: i, outcome: 'never-issued' as const }]
        : [];
    });
    if (unknown.length === 0 && !(o.resend && earlier.length > 0)) {
      output.out(
        output.json
          ? JSON.stringify({ RequestId: requestId, reconciled: [] })
          : `${requestId}: no recipient is UNKNOWN; nothing to reconcile`,
      );
      return EXIT.ok;
    }
    const { endpoint, credentials } = upstream(o, env);
    const client = createResellerTradeClient(endpoint, createHttpTransport());
    const { attributed, unknownOwners } = await othersOf(records, key, view);
    const findings: Finding[] = [];
    for (const [n, index] of unknown.entries()) {
      const uid = view.op.recipients[index]?.uid.digits ?? '';
      output.progress(`checking ${n + 1}/${unknown.length}: ${uidFor(output, uid)}`);
      const found: string[] = [];
      for (let page = 1; ; page++) {
        const query = {
          sellerId: view.op.sellerId.digits,
          templateId: view.op.templateId.digits,
          uids: [uid],
          pageNo: page,
          pageSize: 100,
        };
        const answer = await getCouponPage(client, query, credentials, 10_000);
        if (!answer.ok) throw new UsageError(`GetCouponPage failed: ${answer.outcome.code} ${answer.outcome.message}`);
        found.push(...answer.coupons.filter((c) => c.uid === uid).map((c) => c.youhuiId));
        if (answer.coupons.length < 100 || found.length >= answer.total) break;
      }
      findings.push(settle(uid, index, found, attributed.get(uid) ?? new Set(), 1 + (unknownOwners.get(uid) ?? 0)));
    }

    const neverIssued = [...earlier, ...findings.filter((f) => f.outcome === 'never-issued')];
    const resendId = deriveRequestId(`${requestId}:resend`);
    const resending = o.resend === true && neverIssued.length > 0;
    await amend(
      records,
      key,
      record.chunks,
      record.chunkSize,
      [...findings, ...(resending ? earlier : [])],
      resending ? resendId : undefined,
    );

    let resent: { RequestId: string; exit: number; text: string } | undefined;
    if (resending) {
      const list = neverIssued.map(
        (f) => `{"uid": ${JSON.stringify(f.uid)}, "amount": ${view.op.recipients[f.index]?.amountText}}`,
      );
      const body = `{"SellerId": ${JSON.stringify(view.op.sellerId.digits)}, "TemplateId": ${JSON.stringify(view.op.templateId.digits)}, "FromApp": ${JSON.stringify(view.op.fromApp)}, "RequestId": ${JSON.stringify(resendId)}, "userAmountModelList": [${list.join(', ')}]}`;
      output.progress(`sending ${neverIssued.length} never-issued recipient(s) again as RequestId ${resendId}…`);
      const answer = await deliver(targetOf(o, env), body);
      resent = { RequestId: resendId, exit: exitFor(readAnswer(answer.text)), text: answer.text };
    }
    print(output, requestId, [...findings, ...(resending ? earlier : [])], resent);
    if (findings.some((f) => f.outcome === 'ambiguous')) return EXIT.failed;
    if (resent) return resent.exit === 0 ? EXIT.ok : EXIT.partial;
    return neverIssued.length > 0 ? EXIT.partial : EXIT.ok;
  } finally {
    await records.close();
  }
}

/** Writes what was established onto the record's chunks (`reconciled`), leaving what is still unknown as it was. */
async function amend(
  records: Records,
  key: string,
  chunks: Readonly<Record<number, ChunkRecord>>,
  size: number,
  findings: readonly Finding[],
  resentAs: string | undefined,
): Promise<void> {
  const byChunk = new Map<number, Finding[]>();
  for (const f of findings) {
    if (f.outcome === 'ambiguous') continue;
    const n = Math.floor(f.index / size) + 1;
    byChunk.set(n, [...(byChunk.get(n) ?? []), f]);
  }
  for (const [n, list] of byChunk) {
    const record = chunks[n];
    if (!record) continue;
    const reconciled: Array<Reconciled | null> = [...(record.reconciled ?? [])];
    for (const f of list) {
      const youhuiId: CouponId | undefined =
        f.outcome === 'attributed' ? { text: f.youhuiId, kind: 'number' } : undefined;
      reconciled[f.index - (n - 1) * size] = youhuiId
        ? { issued: true, youhuiId }
        : { issued: false, ...(resentAs ? { resentAs } : {}) };
    }
    const filled = Array.from({ length: reconciled.length }, (_, i) => reconciled[i] ?? null);
    if (!(await records.amendChunk(key, n, { ...record, reconciled: filled }))) {
      throw new UsageError('the record could not be updated: a delivery holds it now; run reconcile again later');
    }
  }
}

function print(
  output: Output,
  requestId: string,
  findings: readonly Finding[],
  resent?: { RequestId: string; text: string },
) {
  const rows = findings.map((f) => ({
    uid: uidFor(output, f.uid),
    status: f.outcome === 'attributed' ? 'SENT' : f.outcome === 'never-issued' ? 'FAILED' : 'UNKNOWN',
    ...(f.outcome === 'attributed' ? { youhuiId: f.youhuiId } : {}),
    finding:
      f.outcome === 'attributed'
        ? 'issued: coupon attributed to this operation'
        : f.outcome === 'never-issued'
          ? 'never issued'
          : `refused to guess: ${f.reason}`,
  }));
  if (output.json) {
    output.out(
      JSON.stringify({
        RequestId: requestId,
        reconciled: rows,
        ...(resent ? { resent: { RequestId: resent.RequestId, answer: JSON.parse(resent.text) as unknown } } : {}),
      }),
    );
    return;
  }
  output.out(
    table(
      ['uid', 'status', 'youhuiId', 'finding'],
      rows.map((r) => [r.uid, r.status, r.youhuiId ?? '', r.finding]),
    ),
  );
  if (resent)
    output.out(
      `\nresent as ${resent.RequestId}: ${readAnswer(resent.text)
        .map((a) => `${a.code} ${a.message}`)
        .join('; ')}`,
    );
}
