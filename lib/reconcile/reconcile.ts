import type { IdempotencyRecord, Reconciled } from '../idempotency/types.js';
import { keyOf } from '../idempotency/keys.js';
import type { Records } from '../operations/read.js';
import { placeOf, viewOf, type OperationView } from '../operations/view.js';
import { deriveRequestId } from '../request/request-id.js';
import type { CouponPage } from '../resellertrade/coupon-page.js';
import type { CouponPageQuery } from '../resellertrade/form.js';
import { attribute, lastAttemptAt, settledAfter, type Finding } from './settle.js';

/*
 * What `coupon reconcile` and the operations page's reconcile action both run: find the recipients to look at,
 * ask GetCouponPage for each whose chunk can no longer be acted on, attribute what it shows, and record the
 * findings on the record, pointing every never-issued recipient about to be sent again at its resend first.
 * Sending the resends is the caller's (only the CLI does it).
 */

/** GetCouponPage for one query: the configured upstream, or the local stack's emulator. */
export type CouponLookup = (query: CouponPageQuery) => Promise<CouponPage>;

/** GetCouponPage did not answer: nothing was recorded or sent. */
export class CouponPageFailed extends Error {
  constructor(readonly code: string) {
    super(`GetCouponPage failed (${code})`);
    this.name = 'CouponPageFailed';
  }
}

/** One recipient reconcile looks at, and what became of it. */
export interface Case {
  index: number;
  uid: string;
  before: 'UNKNOWN' | 'FAILED';
  finding?: Finding;
  /** The RequestId it is (or was) sent again under. */
  resentAs?: string;
  /** After a resend: the recipient's status and coupon in the resend's answer, or why there is none. */
  resent?: { status: string; youhuiId?: string; note?: string };
}

export interface ReconcileInput {
  records: Records;
  key: string;
  record: IdempotencyRecord;
  /** Opened only when there is something to check (so that missing keys matter only then). */
  openLookup: () => CouponLookup;
  upstreamTimeoutMs: number;
  settleMs: number;
  /** Also look at the never-issued, and point them at a resend (the caller sends them). */
  resend: boolean;
  now: () => number;
  /** A malformed record met on the way (skipped). */
  malformed: (key: string, problems: readonly string[]) => void;
  progress?: (done: number, total: number, uid?: string) => void;
}

export type ReconcileResult =
  /** A delivery still holds the record: nothing was checked. */
  | { kind: 'running'; view: OperationView; leaseUntil: string }
  /** No recipient to look at; `owed` were found never issued before and not sent again yet. */
  | { kind: 'nothing'; view: OperationView; owed: number }
  /** A delivery took the record over while it was checked: nothing was recorded. */
  | { kind: 'taken-over'; view: OperationView; cases: Case[] }
  /** The findings are recorded; `groups` are the resends owed, by the RequestId each goes under. */
  | { kind: 'recorded'; view: OperationView; cases: Case[]; groups: Map<string, Case[]> };

export async function reconcileRecord(input: ReconcileInput): Promise<ReconcileResult> {
  const { records, key, record } = input;
  const view = viewOf(record, input.now());
  if (view.state === 'RUNNING') return { kind: 'running', view, leaseUntil: view.leaseUntil ?? '' };
  const owner = { seller: view.op.sellerId.digits, fromApp: view.op.fromApp };
  const cases = await casesOf(records, view, record, input.resend, owner);
  if (cases.length === 0) {
    const owed = view.op.recipients.filter((_, i) => {
      const { settled } = placeOf(record, i);
      return settled && !settled.issued && !settled.resentAs;
    }).length;
    return { kind: 'nothing', view, owed };
  }

  // 1. Ask GetCouponPage now, for each recipient whose chunk can no longer be acted on.
  const lookup = input.openLookup();
  const { attributed, unknownOwners } = await othersOf(records, key, view, input.malformed, input.now);
  const now = input.now();
  for (const [n, c] of cases.entries()) {
    input.progress?.(n, cases.length, c.uid);
    const { chunk } = placeOf(record, c.index);
    const until = settledAfter(lastAttemptAt(chunk, record.leaseUntil), input.upstreamTimeoutMs, input.settleMs);
    if (now < until) {
      c.finding = { outcome: 'unsettled', until };
      continue;
    }
    const found = await couponsOf(lookup, view, c.uid);
    c.finding = attribute(found, attributed.get(c.uid) ?? new Set(), 1 + (unknownOwners.get(c.uid) ?? 0));
  }
  input.progress?.(cases.length, cases.length);

  // 2. Record what was established, pointing every recipient about to be sent again at its resend, before sending.
  const groups = resendGroups(cases, record, view.op.requestId, input.resend);
  if (!(await amend(records, key, record, cases))) return { kind: 'taken-over', view, cases };
  return { kind: 'recorded', view, cases, groups };
}

/**
 * For every uid of this seller and template: the coupons other operations in the store already account for, and
 * how many other operations are themselves UNKNOWN for it (they could own a coupon found too).
 */
async function othersOf(
  records: Records,
  key: string,
  view: OperationView,
  malformed: (key: string, problems: readonly string[]) => void,
  now: () => number,
) {
  const attributed = new Map<string, Set<string>>();
  const unknownOwners = new Map<string, number>();
  for await (const entry of records.list()) {
    if (!entry.checked.ok) {
      malformed(entry.key, entry.checked.problems);
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
    const other = viewOf(entry.checked.record, now());
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
 * The recipients to look at: every UNKNOWN one; with resend also those an earlier reconcile found never
 * issued (asked again now: a late coupon may have appeared), and those marked sent again whose resend never
 * reached the store (stopped between marking and sending; they go under the same RequestId).
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

/** Every coupon GetCouponPage shows for the uid under the operation's template, all pages. */
async function couponsOf(lookup: CouponLookup, view: OperationView, uid: string): Promise<string[]> {
  const found: string[] = [];
  for (let page = 1; ; page++) {
    const query = {
      sellerId: view.op.sellerId.digits,
      templateId: view.op.templateId.digits,
      uids: [uid],
      pageNo: page,
      pageSize: 100,
    };
    const answer = await lookup(query);
    if (!answer.ok) throw new CouponPageFailed(answer.outcome.code);
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

/** The recipient's status once reconcile is done. */
export function statusOf(c: Case): string {
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

/**
 * What happened to the recipient, in words, with the command to run next when there is one. `show` makes a
 * stored value safe where it is written (a terminal, a page).
 */
export function whatHappened(c: Case, requestId: string, show: (text: string) => string): string {
  const id = show(requestId);
  const f = c.finding;
  if (c.resent && c.resentAs) {
    const how = `no coupon found; sent again as ${show(c.resentAs)}`;
    if (c.resent.status === 'SENT') return `${how}: issued`;
    if (c.resent.status === 'UNKNOWN')
      return `${how}: outcome unknown${c.resent.note ? ` (${show(c.resent.note)})` : ''}; run coupon reconcile --request-id ${show(c.resentAs)}`;
    return `${how}: not issued${c.resent.note ? ` (${show(c.resent.note)})` : ''}; run coupon reconcile --request-id ${id} --resend to try again`;
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
