import { DEFAULT_ENDPOINT, type Env } from '../lib/config.js';
import { keyOf } from '../lib/idempotency/keys.js';
import type { IdempotencyRecord, Reconciled } from '../lib/idempotency/types.js';
import { deriveRequestId } from '../lib/request/request-id.js';
import { createResellerTradeClient, type Credentials } from '../lib/resellertrade/client.js';
import { getCouponPage } from '../lib/resellertrade/coupon-page.js';
import { createHttpTransport } from '../lib/http/transport.js';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from '../local/emulator/defaults.js';
import { readAnswer } from './answers.js';
import { dryRunFromEnv } from './dry-run.js';
import { CallError, EXIT, exitForStatuses, OutcomeUnknownError, UsageError } from './exit.js';
import { placeOf, viewOf, type OperationView } from './operation-view.js';
import { table, uidFor, type Output } from './print.js';
import { findOperation, malformedNote, openRecords, type Records } from './records.js';
import { attribute, DEFAULT_SETTLE_SECONDS, lastAttemptAt, settledAfter, type Finding } from './settle.js';
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

function wholeNumber(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) > max)
    throw new UsageError(`${name} must be a whole number from 0 to ${max} (got "${inline(text.slice(0, 20))}")`);
  return Number(text);
}

/**
 * For every uid of this seller and template: the coupons other operations in the store already account for, and
 * how many other operations are themselves UNKNOWN for it (they could own a coupon found too).
 */
async function othersOf(records: Records, key: string, view: OperationView, note: (text: string) => void) {
  const attributed = new Map<string, Set<string>>();
  const unknownOwners = new Map<string, number>();
  for await (const entry of records.list()) {
    if (!entry.checked.ok) {
      note(malformedNote(entry.key, entry.checked.problems));
      continue;
    }
    const op = entry.checked.record.op;
    if (
      entry.key === key ||
      !op ||
      op.sellerId !== view.op.sellerId.digits ||
      op.templateId !== view.op.templateId.digits
    )
      continue;
    const other = viewOf(entry.checked.record, Date.now());
    other.op.recipients.forEach((r, i) => {
      const res = other.results[i];
      const uid = r.uid.digits;
      if (res?.youhuiId) attributed.set(uid, (attributed.get(uid) ?? new Set()).add(res.youhuiId.text));
      if (res?.status === 'UNKNOWN') unknownOwners.set(uid, (unknownOwners.get(uid) ?? 0) + 1);
    });
  }
  return { attributed, unknownOwners };
}

/** One recipient reconcile looks at, and what became of it. */
interface Case {
  index: number;
  uid: string;
  before: 'UNKNOWN' | 'FAILED';
  finding?: Finding;
  /** The RequestId it is (or was) sent again under. */
  resentAs?: string;
  /** After a resend: the recipient's status and coupon in the resend's answer, or why there is none. */
  resent?: { status: string; youhuiId?: string; note?: string };
}

/**
 * The recipients to look at: every UNKNOWN one; with --resend also those an earlier reconcile found never
 * issued (asked again now: a late coupon may have appeared), and those marked sent again whose resend never
 * reached the store (the command stopped between marking and sending; they go under the same RequestId).
 */
async function casesOf(
  records: Records,
  view: OperationView,
  record: IdempotencyRecord,
  resend: boolean,
  sellerFromApp: { seller: string; fromApp: string },
): Promise<Case[]> {
  const cases: Case[] = [];
  const resendsSeen = new Map<string, boolean>();
  for (const [index, r] of view.op.recipients.entries()) {
    const uid = r.uid.digits;
    const { settled } = placeOf(record, index);
    if (view.results[index]?.status === 'UNKNOWN') cases.push({ index, uid, before: 'UNKNOWN' });
    else if (resend && settled && !settled.issued) {
      if (!settled.resentAs) cases.push({ index, uid, before: 'FAILED' });
      else {
        const id = settled.resentAs;
        if (!resendsSeen.has(id)) {
          resendsSeen.set(
            id,
            (await records.get(keyOf(sellerFromApp.seller, sellerFromApp.fromApp, id))) !== undefined,
          );
        }
        if (!resendsSeen.get(id)) cases.push({ index, uid, before: 'FAILED', resentAs: id });
      }
    }
  }
  return cases;
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
    const view = viewOf(record, Date.now());
    if (view.state === 'RUNNING') {
      output.note(
        `${id}: a delivery still holds it (until ${view.leaseUntil}); nothing was checked. Run coupon reconcile --request-id ${id} after that.`,
      );
      return EXIT.unknown;
    }
    const owner = { seller: view.op.sellerId.digits, fromApp: view.op.fromApp };
    const cases = await casesOf(records, view, record, o.resend === true, owner);
    if (cases.length === 0) {
      output.out(
        output.json
          ? JSON.stringify({ RequestId: requestId, reconciled: [] })
          : `${id}: no recipient is UNKNOWN${o.resend ? ' or owed a resend' : ''}; nothing to reconcile`,
      );
      const owed = view.op.recipients.filter((_, i) => {
        const { settled } = placeOf(record, i);
        return settled && !settled.issued && !settled.resentAs;
      }).length;
      if (owed === 0) return EXIT.ok;
      output.note(
        `${id}: ${owed} recipient(s) were found never issued; run coupon reconcile --request-id ${id} --resend to send them`,
      );
      return EXIT.failed;
    }

    // 1. Ask GetCouponPage now, for each recipient whose chunk can no longer be acted on.
    const { endpoint, credentials } = upstream(o, env);
    const client = createResellerTradeClient(endpoint, createHttpTransport());
    const { attributed, unknownOwners } = await othersOf(records, key, view, output.note);
    const now = Date.now();
    for (const [n, c] of cases.entries()) {
      output.progress?.(n, cases.length, `checking ${uidFor(output, c.uid)}`);
      const { chunk } = placeOf(record, c.index);
      const until = settledAfter(lastAttemptAt(chunk, record.leaseUntil), upstreamTimeoutMs, settleMs);
      if (now < until) {
        c.finding = { outcome: 'unsettled', until };
        continue;
      }
      const found = await couponsOf(client, credentials, view, c.uid, requestId);
      c.finding = attribute(found, attributed.get(c.uid) ?? new Set(), 1 + (unknownOwners.get(c.uid) ?? 0));
    }
    output.progress?.(cases.length, cases.length, 'checked');

    // 2. Record what was established, pointing every recipient about to be sent again at its resend, before sending.
    const groups = resendGroups(cases, record, requestId, o.resend === true);
    if (!(await amend(records, key, record, cases))) {
      output.note(
        `${id}: a delivery took the record over while it was checked; nothing was recorded or sent. Run coupon reconcile --request-id ${id} again.`,
      );
      return EXIT.unknown;
    }

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

/** Every coupon GetCouponPage shows for the uid under the operation's template, all pages. */
async function couponsOf(
  client: ReturnType<typeof createResellerTradeClient>,
  credentials: Credentials,
  view: OperationView,
  uid: string,
  requestId: string,
): Promise<string[]> {
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
    if (!answer.ok)
      throw new OutcomeUnknownError(
        `GetCouponPage failed (${inline(answer.outcome.code)}): nothing was recorded or sent; run coupon reconcile --request-id ${inline(requestId)} again`,
      );
    found.push(...answer.coupons.filter((c) => c.uid === uid).map((c) => c.youhuiId));
    if (answer.coupons.length < 100 || found.length >= answer.total) break;
  }
  return found;
}

/** The resend RequestIds: a case already pointed at one keeps it; new never-issued ones get the next free one. */
function resendGroups(
  cases: Case[],
  record: IdempotencyRecord,
  requestId: string,
  resend: boolean,
): Map<string, Case[]> {
  const groups = new Map<string, Case[]>();
  if (!resend) return groups;
  const used = new Set<string>();
  for (const chunk of Object.values(record.chunks))
    for (const r of chunk.reconciled ?? []) if (r && !r.issued && r.resentAs) used.add(r.resentAs);
  let fresh: string | undefined;
  for (const c of cases) {
    if (c.finding?.outcome !== 'never-issued') continue;
    if (!c.resentAs) {
      for (let k = 1; fresh === undefined; k++) {
        const candidate = deriveRequestId(k === 1 ? `${requestId}:resend` : `${requestId}:resend-${k}`);
        if (!used.has(candidate)) fresh = candidate;
      }
      c.resentAs = fresh;
    }
    groups.set(c.resentAs, [...(groups.get(c.resentAs) ?? []), c]);
  }
  return groups;
}

/** Writes the findings onto the record's chunks (`reconciled`); false when a delivery holds the record now. */
async function amend(records: Records, key: string, record: IdempotencyRecord, cases: readonly Case[]) {
  const byChunk = new Map<number, Array<Reconciled | null>>();
  for (const c of cases) {
    const f = c.finding;
    if (!f || f.outcome === 'ambiguous' || f.outcome === 'unsettled') continue;
    const { n, slot, chunk } = placeOf(record, c.index);
    if (!chunk) continue;
    const list = byChunk.get(n) ?? [...(chunk.reconciled ?? [])];
    list[slot] =
      f.outcome === 'attributed'
        ? { issued: true, youhuiId: { text: f.youhuiId, kind: 'number' } }
        : { issued: false, ...(c.resentAs ? { resentAs: c.resentAs } : {}) };
    byChunk.set(n, list);
  }
  for (const [n, list] of byChunk) {
    const chunk = record.chunks[n];
    if (!chunk) continue;
    const reconciled = Array.from({ length: list.length }, (_, i) => list[i] ?? null);
    if (!(await records.amendChunk(key, n, { ...chunk, reconciled }))) return false;
  }
  return true;
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

/** The recipient's status once reconcile is done. */
function statusOf(c: Case): string {
  if (c.resent) return c.resent.status;
  switch (c.finding?.outcome) {
    case 'attributed':
      return 'SENT';
    case 'never-issued':
      return 'FAILED';
    default:
      return 'UNKNOWN';
  }
}

/** What happened to the recipient, in words, with the command to run next when there is one. */
function whatHappened(c: Case, requestId: string): string {
  const id = inline(requestId);
  const f = c.finding;
  if (c.resent && c.resentAs) {
    const how = `no coupon found; sent again as ${inline(c.resentAs)}`;
    if (c.resent.status === 'SENT') return `${how}: issued`;
    if (c.resent.status === 'UNKNOWN')
      return `${how}: outcome unknown${c.resent.note ? ` (${inline(c.resent.note)})` : ''}; run coupon reconcile --request-id ${inline(c.resentAs)}`;
    return `${how}: not issued${c.resent.note ? ` (${inline(c.resent.note)})` : ''}; run coupon reconcile --request-id ${id} --resend to try again`;
  }
  switch (f?.outcome) {
    case 'attributed':
      return 'coupon found and attributed to this operation; nothing sent';
    case 'never-issued':
      return `no coupon found: never issued; run coupon reconcile --request-id ${id} --resend to send it`;
    case 'ambiguous':
      return `refused to guess: ${f.reason}`;
    case 'unsettled':
      return `its last attempt may still be acted on until ${new Date(f.until).toISOString()}; run coupon reconcile --request-id ${id} again after that`;
    default:
      return '';
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
      finding: whatHappened(c, requestId),
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
