import { DEFAULT_ENDPOINT, type Env } from '../lib/config.js';
import type { OperationView } from '../lib/operations/view.js';
import {
  CouponPageFailed,
  reconcileRecord,
  statusOf,
  whatHappened,
  type Case,
  type CouponLookup,
} from '../lib/reconcile/reconcile.js';
import { DEFAULT_SETTLE_SECONDS } from '../lib/reconcile/settle.js';
import { createResellerTradeClient, type Credentials } from '../lib/resellertrade/client.js';
import { getCouponPage } from '../lib/resellertrade/coupon-page.js';
import { createHttpTransport } from '../lib/http/transport.js';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from '../local/emulator/defaults.js';
import { readAnswer } from './answers.js';
import { dryRunFromEnv } from './dry-run.js';
import { CallError, EXIT, exitForStatuses, OutcomeUnknownError, UsageError } from './exit.js';
import { table, uidFor, type Output } from './print.js';
import { findOperation, malformedNote, openRecords } from './records.js';
import { deliver, targetOf, type TargetOptions } from './target.js';
import { inline } from './terminal.js';

export interface ReconcileOptions extends TargetOptions {
  'request-id'?: string;
  seller?: string;
  'from-app'?: string;
  store?: string;
  resend?: boolean;
  endpoint?: string;
  'settle-seconds'?: string;
}

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

/** GetCouponPage on the upstream this command is pointed at. */
function lookupOf(o: ReconcileOptions, env: Env): CouponLookup {
  const { endpoint, credentials } = upstream(o, env);
  const client = createResellerTradeClient(endpoint, createHttpTransport());
  return (query) => getCouponPage(client, query, credentials, 10_000);
}

function wholeNumber(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) > max)
    throw new UsageError(`${name} must be a whole number from 0 to ${max} (got "${inline(text.slice(0, 20))}")`);
  return Number(text);
}

/** `coupon reconcile`: settles UNKNOWN recipients with GetCouponPage and, with --resend, sends the never-issued. */
export async function reconcile(o: ReconcileOptions, env: Env, output: Output): Promise<number> {
  const requestId = o['request-id'];
  if (!requestId) throw new UsageError('--request-id is required');
  if (o.resend && dryRunFromEnv(env))
    throw new UsageError('DRY_RUN is set, and --resend would send coupons: unset DRY_RUN, or run without --resend');
  const settleMs =
    wholeNumber(
      '--settle-seconds (or RECONCILE_SETTLE_SECONDS)',
      o['settle-seconds'] ?? env['RECONCILE_SETTLE_SECONDS'],
      DEFAULT_SETTLE_SECONDS,
      86_400,
    ) * 1000;
  const upstreamTimeoutMs = wholeNumber('UPSTREAM_TIMEOUT_MS', env['UPSTREAM_TIMEOUT_MS'], 10_000, 600_000);
  const records = await openRecords(o.store, env);
  try {
    const { key, record } = await findOperation(
      records,
      requestId,
      o.seller ?? env['SELLER_ID'],
      o['from-app'] ?? env['FROM_APP'],
      output.note,
    );
    const id = inline(requestId);
    const result = await reconcileRecord({
      records,
      key,
      record,
      openLookup: () => lookupOf(o, env),
      upstreamTimeoutMs,
      settleMs,
      resend: o.resend === true,
      now: Date.now,
      malformed: (k, problems) => output.note(malformedNote(k, problems)),
      progress: (done, total, uid) =>
        output.progress?.(done, total, uid === undefined ? 'checked' : `checking ${uidFor(output, uid)}`),
    }).catch((err: unknown) => {
      if (!(err instanceof CouponPageFailed)) throw err;
      throw new OutcomeUnknownError(
        `GetCouponPage failed (${inline(err.code)}): nothing was recorded or sent; run coupon reconcile --request-id ${id} again`,
      );
    });
    if (result.kind === 'running') {
      output.note(
        `${id}: a delivery still holds it (until ${result.leaseUntil}); nothing was checked. Run coupon reconcile --request-id ${id} after that.`,
      );
      return EXIT.unknown;
    }
    if (result.kind === 'nothing') {
      output.out(
        output.json
          ? JSON.stringify({ RequestId: requestId, reconciled: [] })
          : `${id}: no recipient is UNKNOWN${o.resend ? ' or owed a resend' : ''}; nothing to reconcile`,
      );
      if (result.owed === 0) return EXIT.ok;
      output.note(
        `${id}: ${result.owed} recipient(s) were found never issued; run coupon reconcile --request-id ${id} --resend to send them`,
      );
      return EXIT.failed;
    }
    if (result.kind === 'taken-over') {
      output.note(
        `${id}: a delivery took the record over while it was checked; nothing was recorded or sent. Run coupon reconcile --request-id ${id} again.`,
      );
      return EXIT.unknown;
    }
    const { view, cases, groups } = result;

    // 3. Send the never-issued again, each group as one normal, idempotent operation.
    const sent: Array<{ RequestId: string; replayed: boolean; answer: unknown }> = [];
    for (const [resendId, group] of groups) {
      await resendGroup(o, env, view, resendId, group, sent);
    }
    print(output, requestId, cases, sent);
    return exitForStatuses(cases.map(statusOf));
  } finally {
    await records.close();
  }
}

async function resendGroup(
  o: ReconcileOptions,
  env: Env,
  view: OperationView,
  resendId: string,
  group: Case[],
  sent: Array<{ RequestId: string; replayed: boolean; answer: unknown }>,
): Promise<void> {
  const list = group.map(
    (c) => `{"uid": ${JSON.stringify(c.uid)}, "amount": ${view.op.recipients[c.index]?.amountText ?? '0'}}`,
  );
  const body = `{"SellerId": ${JSON.stringify(view.op.sellerId.digits)}, "TemplateId": ${JSON.stringify(view.op.templateId.digits)}, "FromApp": ${JSON.stringify(view.op.fromApp)}, "RequestId": ${JSON.stringify(resendId)}, "userAmountModelList": [${list.join(', ')}]}`;
  try {
    const answer = await deliver(targetOf(o, env), body);
    const [op] = readAnswer(answer.text);
    group.forEach((c, i) => {
      const r = op?.recipients[i];
      c.resent = r
        ? { status: r.status, ...(r.youhuiId ? { youhuiId: r.youhuiId } : {}), ...(r.code ? { note: r.code } : {}) }
        : { status: 'FAILED', note: `${op?.code ?? ''} ${op?.message ?? ''}`.trim() || `HTTP ${answer.status}` };
    });
    let parsed: unknown = answer.text;
    try {
      parsed = JSON.parse(answer.text) as unknown;
    } catch {
      // shown as text
    }
    sent.push({ RequestId: resendId, replayed: answer.replayed === true, answer: parsed });
  } catch (err) {
    if (!(err instanceof CallError || err instanceof OutcomeUnknownError)) throw err;
    const status = err instanceof CallError ? 'FAILED' : 'UNKNOWN';
    for (const c of group) c.resent = { status, note: err.message };
  }
}

function print(
  output: Output,
  requestId: string,
  cases: readonly Case[],
  sent: ReadonlyArray<{ RequestId: string; replayed: boolean; answer: unknown }>,
) {
  const rows = cases.map((c) => {
    const youhuiId = c.resent?.youhuiId ?? (c.finding?.outcome === 'attributed' ? c.finding.youhuiId : undefined);
    return {
      uid: uidFor(output, c.uid),
      was: c.before,
      status: statusOf(c),
      ...(youhuiId ? { youhuiId } : {}),
      ...(c.resentAs && c.resent ? { resentAs: c.resentAs } : {}),
      ...(c.finding?.outcome === 'unsettled' ? { settlesAt: new Date(c.finding.until).toISOString() } : {}),
      finding: whatHappened(c, requestId, inline),
    };
  });
  if (output.json) {
    output.out(
      JSON.stringify({ RequestId: requestId, reconciled: rows, ...(sent.length > 0 ? { resent: sent } : {}) }),
    );
    return;
  }
  output.out(
    table(
      ['uid', 'was', 'now', 'youhuiId', 'what happened'],
      rows.map((r) => [r.uid, r.was, r.status, r.youhuiId ?? '', r.finding]),
    ),
  );
  for (const s of sent.filter((x) => x.replayed))
    output.note(`${inline(s.RequestId)} had been sent already: its stored answer is shown (Idempotent-Replayed)`);
}
