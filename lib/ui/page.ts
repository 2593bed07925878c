/*
 * The operations page: a request handler that answers everything under /__ui and nothing else. Its readers and
 * clients are injected: the records (the same lib/ readers `coupon` uses), the budget ledger, GetCouponPage for
 * reconcile, the emulator's URL, and campaigns when a reader for them exists.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { BudgetLedger } from '../guardrails/ledger.js';
import { budgetDay } from '../guardrails/budget-day.js';
import type { ListCursor, ListState } from '../idempotency/types.js';
import type { IndexedRecords } from '../operations/read.js';
import { viewOf } from '../operations/view.js';
import { CouponPageFailed, reconcileRecord, type Case, type CouponLookup } from '../reconcile/reconcile.js';
import { formToken, originProblem, tokenProblem } from './csrf.js';
import type { Html } from './html.js';
import { STYLE } from './style.js';
import {
  BASE,
  budgetSection,
  campaignsSection,
  detail,
  layout,
  ledgerSection,
  overview,
  problemPage,
  sectionsOf,
  type BudgetLine,
  type CampaignProgress,
  type DetailInput,
  type Filters,
  type LedgerCoupon,
  type OperationRow,
} from './views.js';

export interface PageRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface BudgetSource {
  ledger: Pick<BudgetLedger, 'used'>;
  /** DAILY_BUDGET in cents; absent when no budget is set. */
  dailyBudgetCents?: number;
  timeZone: string;
  /** Sellers always shown (SELLER_ID); those of the operations listed are added. */
  sellers: readonly string[];
}

/**
 * The hook for campaigns: the page shows a Campaigns section only when it is given one of these. `list` gives
 * the newest campaigns first with their progress so far.
 */
export interface CampaignReader {
  list(limit: number): Promise<CampaignProgress[]>;
}

export interface PageDeps {
  records: IndexedRecords;
  budget: BudgetSource;
  /** The local emulator (its ledger is shown); absent when deployed. */
  emulatorUrl?: string;
  /** GetCouponPage for the reconcile action, opened only when there is something to check. */
  openLookup: () => CouponLookup;
  reconcile: { upstreamTimeoutMs: number; settleMs: number };
  campaigns?: CampaignReader;
  /** Signs the forms' tokens: random per process is enough (a token outlives no restart). */
  secret: Buffer;
  /** This page's origin when it is not `http://<Host>` (behind a TLS front end). */
  origin?: string;
  now?: () => number;
}

const PAGE_SIZE = 25;
const KEY = /^[0-9a-f]{64}$/;
const OPERATION = new RegExp(`^${BASE}/operations/([^/]+)(/reconcile)?$`);
const STATES: readonly ListState[] = ['IN_PROGRESS', 'COMPLETED', 'UNKNOWN'];
const REQUEST_ID_PREFIX = /^[A-Za-z0-9._:-]{0,64}$/;

class PageProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the page answers: written to a Node response locally, mapped to FC's HTTP answer when deployed. */
export interface PageAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function answer(status: number, body: string | Html, type = 'text/html; charset=utf-8'): PageAnswer {
  return {
    status,
    headers: {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'x-frame-options': 'DENY',
      'content-security-policy':
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    },
    body: String(body),
  };
}

export function writePageAnswer(res: ServerResponse, page: PageAnswer): void {
  res.writeHead(page.status, page.headers);
  res.end(page.body);
}

/** The page's answer when the request is under /__ui, else undefined (the caller's to answer). */
export async function operationsPage(req: PageRequest, deps: PageDeps): Promise<PageAnswer | undefined> {
  const path = req.url.pathname;
  if (path !== BASE && !path.startsWith(`${BASE}/`)) return undefined;
  try {
    if (path === `${BASE}/style.css` && req.method === 'GET') return answer(200, STYLE, 'text/css; charset=utf-8');
    if ((path === BASE || path === `${BASE}/`) && req.method === 'GET')
      return answer(200, await overviewPage(req.url, deps));
    const match = OPERATION.exec(path);
    if (match && KEY.test(match[1] ?? '')) {
      const key = match[1] as string;
      if (!match[2] && req.method === 'GET') return answer(200, await detailPage(key, deps));
      if (match[2] && req.method === 'POST') return answer(200, await reconcilePage(req, key, deps));
      throw new PageProblem(405, 'Method not allowed', `${req.method} is not allowed here`);
    }
    throw new PageProblem(404, 'Not found', 'There is no such page. Operations are listed on the first page.');
  } catch (err) {
    if (!(err instanceof PageProblem)) throw err;
    return answer(err.status, problemPage(err.title, err.message, sectionsFor(deps)));
  }
}

const sectionsFor = (deps: PageDeps) =>
  sectionsOf({ campaigns: deps.campaigns !== undefined, ledger: deps.emulatorUrl !== undefined });

function filtersOf(url: URL): { filters: Filters; before?: ListCursor; refresh?: number } {
  const q = url.searchParams;
  const state = q.get('state') ?? '';
  if (state !== '' && !STATES.includes(state as ListState))
    throw new PageProblem(400, 'Bad filter', `state must be one of ${STATES.join(', ')}, or empty for any state`);
  const requestId = q.get('requestId') ?? '';
  if (!REQUEST_ID_PREFIX.test(requestId))
    throw new PageProblem(
      400,
      'Bad filter',
      'requestId must be at most 64 characters of A-Z a-z 0-9 . _ : - (the start of a RequestId)',
    );
  const cursor = q.get('before');
  let before: ListCursor | undefined;
  if (cursor) {
    const m = /^([0-9]{1,15})\.([A-Za-z0-9_-]{1,200})$/.exec(cursor);
    if (!m) throw new PageProblem(400, 'Bad page link', 'before must be a page link from this page');
    before = { at: Number(m[1]), entry: Buffer.from(m[2] ?? '', 'base64url').toString('utf8') };
  }
  const refresh = q.get('refresh') === '10' ? 10 : undefined;
  return {
    filters: { ...(state ? { state: state as ListState } : {}), ...(requestId ? { requestId } : {}) },
    ...(before ? { before } : {}),
    ...(refresh ? { refresh } : {}),
  };
}

async function overviewPage(url: URL, deps: PageDeps): Promise<Html> {
  const now = deps.now ?? Date.now;
  const { filters, before, refresh } = filtersOf(url);
  const page = await deps.records.listRecent({
    limit: PAGE_SIZE,
    ...(filters.state ? { state: filters.state } : {}),
    ...(filters.requestId ? { requestIdPrefix: filters.requestId } : {}),
    ...(before ? { before } : {}),
  });
  const rows: OperationRow[] = [];
  const malformed: string[] = [];
  for (const { key, checked } of page.records) {
    if (!checked.ok) {
      malformed.push(`${key}: ${checked.problems.join('; ')}`);
      continue;
    }
    const view = viewOf(checked.record, now());
    const counts = { SENT: 0, FAILED: 0, UNKNOWN: 0 };
    for (const r of view.results) if (r.status in counts) counts[r.status as keyof typeof counts] += 1;
    rows.push({
      key,
      requestId: view.op.requestId,
      sellerId: view.op.sellerId.digits,
      templateId: view.op.templateId.digits,
      fromApp: view.op.fromApp,
      state: view.state,
      ...(checked.record.createdAt === undefined ? {} : { createdAt: checked.record.createdAt }),
      recipients: view.op.recipients.length,
      counts,
      reconciled: Object.values(checked.record.chunks).reduce(
        (n, c) => n + (c.reconciled ?? []).filter((r) => r !== null).length,
        0,
      ),
    });
  }
  const next = page.next ? `${page.next.at}.${Buffer.from(page.next.entry).toString('base64url')}` : undefined;
  const sellers = [...new Set([...deps.budget.sellers, ...rows.map((r) => r.sellerId)])].sort();
  const [budget, campaigns, ledger] = await Promise.all([
    budgetLines(deps.budget, sellers, now()),
    deps.campaigns?.list(20),
    deps.emulatorUrl ? emulatorLedger(deps.emulatorUrl) : undefined,
  ]);
  return layout(
    'Operations',
    overview({
      filters,
      rows,
      ...(next ? { next } : {}),
      budget: budgetSection(budget),
      campaigns: campaignsSection(campaigns),
      ledger: ledgerSection(ledger),
      ...(malformed.length > 0
        ? { problem: `Malformed records were skipped: ${malformed.slice(0, 3).join(' | ')}` }
        : {}),
    }),
    { sections: sectionsFor(deps), ...(refresh ? { refreshSeconds: refresh } : {}) },
  );
}

async function budgetLines(
  budget: BudgetSource,
  sellers: readonly string[],
  now: number,
): Promise<BudgetLine[] | undefined> {
  const limitCents = budget.dailyBudgetCents;
  if (limitCents === undefined) return undefined;
  const day = budgetDay(now, budget.timeZone);
  return Promise.all(
    sellers.map(async (sellerId) => ({
      sellerId,
      day,
      timeZone: budget.timeZone,
      usedCents: await budget.ledger.used(`${sellerId}:${day}`),
      limitCents,
    })),
  );
}

/** The emulator's ledger, or a sentence saying why it cannot be shown. */
async function emulatorLedger(emulatorUrl: string): Promise<LedgerCoupon[] | string> {
  try {
    const res = await fetch(new URL('/__emulator/coupons', emulatorUrl), { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { coupons?: unknown };
    if (!res.ok || !Array.isArray(body.coupons)) return `The emulator answered HTTP ${res.status} without a ledger.`;
    return body.coupons as LedgerCoupon[];
  } catch {
    return `The emulator at ${emulatorUrl} did not answer.`;
  }
}

async function detailInput(key: string, deps: PageDeps): Promise<DetailInput> {
  const checked = await deps.records.get(key);
  if (!checked) throw new PageProblem(404, 'Not found', 'No operation has this key: it may have expired.');
  if (!checked.ok)
    throw new PageProblem(422, 'Malformed record', `This record cannot be read: ${checked.problems.join('; ')}`);
  const { record } = checked;
  const now = deps.now ?? Date.now;
  const view = viewOf(record, now());
  const reconciled = view.op.recipients.map((_, i) => {
    const n = Math.floor(i / record.chunkSize) + 1;
    const r = record.chunks[n]?.reconciled?.[i - (n - 1) * record.chunkSize];
    if (!r) return undefined;
    return r.issued
      ? { issued: true, youhuiId: r.youhuiId.text }
      : { issued: false, ...(r.resentAs ? { resentAs: r.resentAs } : {}) };
  });
  return {
    key,
    view,
    ...(record.createdAt === undefined ? {} : { createdAt: record.createdAt }),
    chunkSize: record.chunkSize,
    reconciled,
    chunkTimes: view.chunks.map((c) => record.chunks[c.chunk]?.at),
    token: formToken(deps.secret, `reconcile:${key}`, now()),
  };
}

async function detailPage(key: string, deps: PageDeps): Promise<Html> {
  const input = await detailInput(key, deps);
  return layout(`Operation ${input.view.op.requestId}`, detail(input), { sections: sectionsFor(deps) });
}

async function reconcilePage(req: PageRequest, key: string, deps: PageDeps): Promise<Html> {
  const now = deps.now ?? Date.now;
  const ownOrigin = deps.origin ?? `http://${req.headers.host ?? ''}`;
  const crossSite = originProblem(req.headers, ownOrigin);
  if (crossSite) throw new PageProblem(403, 'Refused', crossSite);
  const form = new URLSearchParams(req.body.toString('utf8'));
  const badToken = tokenProblem(deps.secret, `reconcile:${key}`, form.get('token') ?? undefined, now());
  if (badToken) throw new PageProblem(403, 'Refused', badToken);

  const checked = await deps.records.get(key);
  if (!checked) throw new PageProblem(404, 'Not found', 'No operation has this key: it may have expired.');
  if (!checked.ok)
    throw new PageProblem(422, 'Malformed record', `This record cannot be read: ${checked.problems.join('; ')}`);
  let outcome: string;
  let cases: readonly Case[] = [];
  try {
    const skipped: string[] = [];
    const result = await reconcileRecord({
      records: deps.records,
      key,
      record: checked.record,
      openLookup: deps.openLookup,
      ...deps.reconcile,
      resend: false,
      now,
      malformed: (k) => skipped.push(k),
    });
    const note = skipped.length > 0 ? ` (${skipped.length} malformed record(s) in the store were skipped)` : '';
    switch (result.kind) {
      case 'running':
        outcome = `A delivery still holds this operation (until ${result.leaseUntil}); nothing was checked. Reconcile after that.`;
        break;
      case 'nothing':
        outcome = 'No recipient is UNKNOWN: nothing to reconcile.';
        break;
      case 'taken-over':
        outcome = 'A delivery took the record over while it was checked: nothing was recorded. Reconcile again.';
        cases = result.cases;
        break;
      case 'recorded':
        outcome = `Checked ${result.cases.length} recipient(s) with GetCouponPage and recorded what it proves${note}. Nothing was sent.`;
        cases = result.cases;
        break;
    }
  } catch (err) {
    if (!(err instanceof CouponPageFailed)) throw err;
    outcome = `GetCouponPage failed (${err.code}): nothing was recorded or sent. Reconcile again.`;
  }
  const input = await detailInput(key, deps);
  return layout(`Reconciled ${input.view.op.requestId}`, detail({ ...input, found: { cases, outcome } }), {
    sections: sectionsFor(deps),
  });
}
