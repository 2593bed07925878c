/*
 * The operations page's HTML, pure: data in, markup out. Readable without JavaScript and without CSS; one h1
 * per page, landmarks, captioned tables with header cells, labelled controls, visible focus.
 */
import { keyOf } from '../idempotency/keys.js';
import type { ListState } from '../idempotency/types.js';
import type { OperationView } from '../operations/view.js';
import { statusOf, whatHappened, type Case } from '../reconcile/reconcile.js';
import { maskDigitRuns, maskUid } from '../redact.js';
import { html, type Html } from './html.js';

export const BASE = '/__ui';

export interface OperationRow {
  key: string;
  requestId: string;
  sellerId: string;
  templateId: string;
  fromApp: string;
  state: string;
  createdAt?: number;
  recipients: number;
  counts: Record<'SENT' | 'FAILED' | 'UNKNOWN', number>;
  /** Recipients whose outcome reconcile settled (issued, or never issued). */
  reconciled: number;
}

export interface BudgetLine {
  sellerId: string;
  day: string;
  timeZone: string;
  usedCents: number;
  limitCents: number;
}

export interface LedgerCoupon {
  youhuiId: string;
  uid: string;
  amount: number;
  templateId: string;
  requestId: string;
  createdAt?: string;
}

/** What a campaign reader gives the page: one line per campaign, with its progress so far. */
export interface CampaignProgress {
  id: string;
  name?: string;
  state: string;
  total: number;
  sent: number;
  failed: number;
  unknown: number;
  updatedAt?: number;
}

export interface Filters {
  state?: ListState;
  requestId?: string;
}

const money = (cents: number) => (cents / 100).toFixed(2);
const time = (ms: number | undefined) =>
  ms === undefined
    ? ''
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z');
const opLink = (key: string) => `${BASE}/operations/${key}`;

const STATE_LABELS: Array<[ListState | '', string]> = [
  ['', 'any state'],
  ['IN_PROGRESS', 'IN_PROGRESS'],
  ['COMPLETED', 'COMPLETED'],
  ['UNKNOWN', 'has UNKNOWN chunks'],
];

function badge(status: string, kind = status): Html {
  return html`<span class="badge badge-${kind.toLowerCase().replace(/[^a-z]/g, '-')}">${status}</span>`;
}

/** The sections the page has: campaigns and the emulator's ledger only where there are readers for them. */
export const sectionsOf = (has: { campaigns: boolean; ledger: boolean }): Array<[string, string]> => [
  ['operations', 'Operations'],
  ['budget', 'Budget'],
  ...(has.campaigns ? [['campaigns', 'Campaigns'] as [string, string]] : []),
  ...(has.ledger ? [['ledger', 'Emulator ledger'] as [string, string]] : []),
];

export function layout(
  title: string,
  body: Html,
  options: { sections: Array<[string, string]>; refreshSeconds?: number },
): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}" />` : ''}
        <title>${title} &middot; coupon-sender operations</title>
        <link rel="stylesheet" href="${BASE}/style.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <p class="brand"><a href="${BASE}">coupon-sender operations</a></p>
          <nav aria-label="Sections">
            <ul>
              ${options.sections.map(([id, label]) => html`<li><a href="${BASE}#${id}">${label}</a></li>`)}
            </ul>
          </nav>
        </header>
        <main id="main" tabindex="-1">${body}</main>
        <footer><p>Uids are masked. Times are UTC.</p></footer>
      </body>
    </html> `;
}

export function filterForm(filters: Filters): Html {
  return html`<form class="filters" method="get" action="${BASE}" role="search" aria-label="Filter operations">
    <div>
      <label for="state">State</label>
      <select id="state" name="state">
        ${STATE_LABELS.map(
          ([value, label]) =>
            html`<option value="${value}" ${(filters.state ?? '') === value ? html` selected` : ''}>${label}</option>`,
        )}
      </select>
    </div>
    <div>
      <label for="requestId">RequestId starts with</label>
      <input
        id="requestId"
        name="requestId"
        type="search"
        maxlength="64"
        pattern="[A-Za-z0-9._:\\-]*"
        value="${filters.requestId ?? ''}"
        aria-describedby="requestId-hint"
      />
      <p id="requestId-hint" class="hint">Letters, digits and . _ : - (the whole RequestId finds one operation).</p>
    </div>
    <div><button type="submit">Show operations</button></div>
  </form>`;
}

export function operationsTable(rows: readonly OperationRow[], next: string | undefined, filters: Filters): Html {
  const query = new URLSearchParams();
  if (filters.state) query.set('state', filters.state);
  if (filters.requestId) query.set('requestId', filters.requestId);
  const more = next ? (query.set('before', next), `${BASE}?${query.toString()}#operations`) : undefined;
  if (rows.length === 0) return html`<p class="empty">No operation matches.</p>`;
  return html`<div class="scroll">
      <table>
        <caption>
          Operations, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">RequestId</th>
            <th scope="col">Created</th>
            <th scope="col">State</th>
            <th scope="col">Recipients</th>
            <th scope="col">SENT</th>
            <th scope="col">FAILED</th>
            <th scope="col">UNKNOWN</th>
            <th scope="col">Reconciled</th>
            <th scope="col">Seller</th>
            <th scope="col">Template</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (r) =>
              html`<tr>
                <th scope="row"><a href="${opLink(r.key)}">${r.requestId}</a></th>
                <td>${time(r.createdAt)}</td>
                <td>${badge(r.state)}</td>
                <td class="num">${r.recipients}</td>
                <td class="num">${r.counts.SENT}</td>
                <td class="num">${r.counts.FAILED}</td>
                <td class="num">${r.counts.UNKNOWN > 0 ? badge(String(r.counts.UNKNOWN), 'UNKNOWN') : '0'}</td>
                <td class="num">${r.reconciled}</td>
                <td>${r.sellerId}</td>
                <td>${r.templateId}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${more ? html`<p><a href="${more}" rel="next">Older operations</a></p>` : ''}`;
}

export function budgetSection(lines: readonly BudgetLine[] | undefined): Html {
  const body =
    lines === undefined
      ? html`<p>No DAILY_BUDGET is set: nothing is counted against a budget.</p>`
      : lines.length === 0
        ? html`<p>No seller to show: set SELLER_ID, or send an operation.</p>`
        : html`<table>
            <caption>
              Today's budget per seller (the day in ${lines[0]?.timeZone ?? ''}, BUDGET_TIMEZONE)
            </caption>
            <thead>
              <tr>
                <th scope="col">Seller</th>
                <th scope="col">Day</th>
                <th scope="col">Used</th>
                <th scope="col">Left</th>
                <th scope="col">DAILY_BUDGET</th>
              </tr>
            </thead>
            <tbody>
              ${lines.map(
                (l) =>
                  html`<tr>
                    <th scope="row">${l.sellerId}</th>
                    <td>${l.day}</td>
                    <td class="num">${money(l.usedCents)}</td>
                    <td class="num">${money(Math.max(0, l.limitCents - l.usedCents))}</td>
                    <td class="num">${money(l.limitCents)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`;
  return html`<section aria-labelledby="budget">
    <h2 id="budget">Budget</h2>
    ${body}
  </section>`;
}

export function campaignsSection(campaigns: readonly CampaignProgress[] | undefined): Html {
  if (campaigns === undefined) return html``;
  const body =
    campaigns.length === 0
      ? html`<p>No campaign yet.</p>`
      : html`<table>
            <caption>
              Campaigns and their progress
            </caption>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">State</th>
                <th scope="col">Progress</th>
                <th scope="col">SENT</th>
                <th scope="col">FAILED</th>
                <th scope="col">UNKNOWN</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              ${campaigns.map((c) => {
                const done = c.sent + c.failed + c.unknown;
                return html`<tr>
                  <th scope="row">${c.name ?? c.id}</th>
                  <td>${badge(c.state)}</td>
                  <td>
                    <progress max="${c.total}" value="${done}" aria-label="${c.name ?? c.id}: ${done} of ${c.total}">
                      ${done} of ${c.total}
                    </progress>
                    ${done} of ${c.total}
                  </td>
                  <td class="num">${c.sent}</td>
                  <td class="num">${c.failed}</td>
                  <td class="num">${c.unknown}</td>
                  <td>${time(c.updatedAt)}</td>
                </tr>`;
              })}
            </tbody>
          </table>
          <p>
            <a href="${BASE}?refresh=10#campaigns">Refresh every 10 seconds</a> &middot;
            <a href="${BASE}#campaigns">Stop refreshing</a>
          </p>`;
  return html`<section aria-labelledby="campaigns">
    <h2 id="campaigns">Campaigns</h2>
    ${body}
  </section>`;
}

export function ledgerSection(coupons: readonly LedgerCoupon[] | string | undefined): Html {
  if (coupons === undefined) return html``;
  const body =
    typeof coupons === 'string'
      ? html`<p role="alert">${coupons}</p>`
      : coupons.length === 0
        ? html`<p>The emulator has issued no coupon yet.</p>`
        : html`<div class="scroll">
            <table>
              <caption>
                Coupons the local emulator issued, newest first (${coupons.length})
              </caption>
              <thead>
                <tr>
                  <th scope="col">YouhuiId</th>
                  <th scope="col">Uid</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Template</th>
                  <th scope="col">Upstream RequestId</th>
                  <th scope="col">Issued</th>
                </tr>
              </thead>
              <tbody>
                ${coupons
                  .slice(-50)
                  .reverse()
                  .map(
                    (c) =>
                      html`<tr>
                        <th scope="row">${c.youhuiId}</th>
                        <td>${maskUid(c.uid)}</td>
                        <td class="num">${c.amount}</td>
                        <td>${c.templateId}</td>
                        <td>${c.requestId}</td>
                        <td>${c.createdAt ?? ''}</td>
                      </tr>`,
                  )}
              </tbody>
            </table>
          </div>`;
  return html`<section aria-labelledby="ledger">
    <h2 id="ledger">Emulator ledger</h2>
    ${body}
  </section>`;
}

export function overview(parts: {
  filters: Filters;
  rows: readonly OperationRow[];
  next?: string;
  budget: Html;
  campaigns: Html;
  ledger: Html;
  problem?: string;
}): Html {
  return html`<h1>Operations overview</h1>
    <section aria-labelledby="operations">
      <h2 id="operations">Operations</h2>
      ${filterForm(parts.filters)}
      ${parts.problem ? html`<p role="alert" class="problem">${parts.problem}</p>` : operationsTable(parts.rows, parts.next, parts.filters)}
    </section>
    ${parts.budget} ${parts.campaigns} ${parts.ledger}`;
}

export interface DetailInput {
  key: string;
  view: OperationView;
  createdAt?: number;
  chunkSize: number;
  /** Per recipient: what reconcile recorded for it (issued with a coupon, or never issued and maybe resent). */
  reconciled: Array<{ issued: boolean; youhuiId?: string; resentAs?: string } | undefined>;
  chunkTimes: Array<number | undefined>;
  token?: string;
  found?: { cases: readonly Case[]; outcome: string };
}

export function detail(d: DetailInput): Html {
  const { view } = d;
  const unknown = view.results.filter((r) => r.status === 'UNKNOWN').length;
  return html`<h1>Operation ${view.op.requestId}</h1>
    <p><a href="${BASE}#operations">Back to all operations</a></p>
    <dl class="summary">
      <dt>State</dt>
      <dd>${badge(view.state)}${view.leaseUntil ? html` (a delivery holds it until ${view.leaseUntil})` : ''}</dd>
      <dt>Created</dt>
      <dd>${time(d.createdAt) || 'not recorded'}</dd>
      <dt>Seller</dt>
      <dd>${view.op.sellerId.digits}</dd>
      <dt>Template</dt>
      <dd>${view.op.templateId.digits}</dd>
      <dt>FromApp</dt>
      <dd>${view.op.fromApp}</dd>
      <dt>Record key</dt>
      <dd><code>${d.key}</code></dd>
    </dl>
    ${d.found ? foundSection(d.found, view.op.requestId) : ''} ${unknown > 0 ? reconcileForm(d, unknown) : ''}
    <section aria-labelledby="recipients">
      <h2 id="recipients">Recipients</h2>
      <div class="scroll">
        <table>
          <caption>
            Recipients in request order (${view.op.recipients.length})
          </caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Uid</th>
              <th scope="col">Amount</th>
              <th scope="col">Status</th>
              <th scope="col">YouhuiId</th>
              <th scope="col">Chunk</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            ${view.op.recipients.map((r, i) => {
              const res = view.results[i];
              const rec = d.reconciled[i];
              const notes = [
                res?.code ? html`${res.code}${res.message ? `: ${maskDigitRuns(res.message)}` : ''}` : undefined,
                rec?.issued ? html`reconciled: issued` : undefined,
                rec && !rec.issued ? html`reconciled: never issued` : undefined,
                rec?.resentAs ? resentLink(view, rec.resentAs) : undefined,
              ].filter((n): n is Html => n !== undefined);
              return html`<tr>
                <th scope="row">${i + 1}</th>
                <td>${maskUid(r.uid.digits)}</td>
                <td class="num">${r.amountText}</td>
                <td>${badge(res?.status ?? 'UNKNOWN')}</td>
                <td>${res?.youhuiId?.text ?? rec?.youhuiId ?? ''}</td>
                <td class="num">${Math.floor(i / d.chunkSize) + 1}</td>
                <td>${notes.map((n, k) => (k === 0 ? n : html`; ${n}`))}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
    </section>
    <section aria-labelledby="chunks">
      <h2 id="chunks">Chunks</h2>
      <div class="scroll">
        <table>
          <caption>
            SendCoupon calls, one per chunk of up to ${d.chunkSize} recipients
          </caption>
          <thead>
            <tr>
              <th scope="col">Chunk</th>
              <th scope="col">Upstream RequestId</th>
              <th scope="col">State</th>
              <th scope="col">Code</th>
              <th scope="col">Last written</th>
            </tr>
          </thead>
          <tbody>
            ${view.chunks.map(
              (c, i) =>
                html`<tr>
                  <th scope="row">${c.chunk}</th>
                  <td><code>${c.upstreamRequestId}</code></td>
                  <td>${badge(c.state)}</td>
                  <td>${c.code ?? ''}</td>
                  <td>${time(d.chunkTimes[i])}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>`;
}

/** Where a resent coupon went: the operation `coupon reconcile --resend` sent it under. */
const resentLink = (view: OperationView, resentAs: string): Html =>
  html`resent as <a href="${opLink(keyOf(view.op.sellerId.digits, view.op.fromApp, resentAs))}">${resentAs}</a>`;

function reconcileForm(d: DetailInput, unknown: number): Html {
  return html`<section aria-labelledby="reconcile">
    <h2 id="reconcile">Reconcile</h2>
    <p>
      ${unknown} recipient(s) are UNKNOWN: a coupon may or may not have been issued. Reconcile asks GetCouponPage what
      was issued to them, records what it proves, and sends nothing. It is what
      <code>coupon reconcile --request-id ${d.view.op.requestId}</code> does; to send the never-issued again, run that
      command with <code>--resend</code>.
    </p>
    <form method="post" action="${opLink(d.key)}/reconcile">
      <input type="hidden" name="token" value="${d.token ?? ''}" />
      <button type="submit">Reconcile the UNKNOWN recipients</button>
    </form>
  </section>`;
}

function foundSection(found: NonNullable<DetailInput['found']>, requestId: string): Html {
  return html`<section aria-labelledby="found" class="found">
    <h2 id="found">What reconcile found</h2>
    <p role="status">${found.outcome}</p>
    ${
      found.cases.length > 0
        ? html`<table>
            <caption>
              Recipients reconcile looked at
            </caption>
            <thead>
              <tr>
                <th scope="col">Uid</th>
                <th scope="col">Was</th>
                <th scope="col">Now</th>
                <th scope="col">YouhuiId</th>
                <th scope="col">What happened</th>
              </tr>
            </thead>
            <tbody>
              ${found.cases.map((c) => {
                const youhuiId = c.finding?.outcome === 'attributed' ? c.finding.youhuiId : '';
                // The CLI's words: the markup escapes the stored values they quote.
                const words = whatHappened(c, requestId, (text) => text);
                return html`<tr>
                  <th scope="row">${maskUid(c.uid)}</th>
                  <td>${badge(c.before)}</td>
                  <td>${badge(statusOf(c))}</td>
                  <td>${youhuiId}</td>
                  <td>${words}</td>
                </tr>`;
              })}
            </tbody>
          </table>`
        : ''
    }
  </section>`;
}

export function problemPage(title: string, message: string, sections: Array<[string, string]>): Html {
  return layout(
    title,
    html`<h1>${title}</h1>
      <p role="alert" class="problem">${message}</p>
      <p><a href="${BASE}">Back to all operations</a></p>`,
    { sections },
  );
}
