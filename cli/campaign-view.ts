import { CAMPAIGN_STATES, type CampaignState, type Counts } from '../lib/campaigns/state.js';
import { EXIT, type ExitCode } from './exit.js';
import { inline } from './terminal.js';

/** A campaign's progress as `GET /campaigns/{id}` answers it, checked field by field. */
export interface Progress extends Counts {
  campaignId: string;
  state: CampaignState;
  invalidLines?: Array<{ line: number; problem: string }>;
  startedAt?: string | number;
  eta?: string | number;
}

const COUNTS = ['total', 'planned', 'sent', 'failed', 'unknown', 'pending'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && v >= 0);

/** The progress object of an answer, or what is wrong with it (named by field). */
export function readProgress(value: unknown): Progress | { problem: string } {
  if (!isObject(value)) return { problem: 'it is not a JSON object' };
  const { campaignId, state } = value;
  if (typeof campaignId !== 'string' || campaignId === '') return { problem: 'campaignId is not a string' };
  if (typeof state !== 'string' || !(CAMPAIGN_STATES as readonly string[]).includes(state))
    return { problem: `state is not one of ${CAMPAIGN_STATES.join(', ')}` };
  const progress: Progress = {
    campaignId,
    state: state as CampaignState,
    total: 0,
    planned: 0,
    sent: 0,
    failed: 0,
    unknown: 0,
    pending: 0,
  };
  for (const name of COUNTS) {
    const n = value[name];
    if (!isCount(n)) return { problem: `${name} is not a whole number >= 0` };
    progress[name] = n;
  }
  const invalid = value['invalidLines'];
  if (Array.isArray(invalid)) {
    progress.invalidLines = invalid
      .filter(isObject)
      .filter((l) => isCount(l['line']) && typeof l['problem'] === 'string')
      .map((l) => ({ line: l['line'] as number, problem: l['problem'] as string }));
  }
  if (isTime(value['startedAt'])) progress.startedAt = value['startedAt'];
  if (isTime(value['eta'])) progress.eta = value['eta'];
  return progress;
}

/** Exactly the fields `coupon campaign status --json` prints, in this order. */
export const progressJson = (p: Progress): string =>
  JSON.stringify({
    campaignId: p.campaignId,
    state: p.state,
    total: p.total,
    planned: p.planned,
    sent: p.sent,
    failed: p.failed,
    unknown: p.unknown,
    pending: p.pending,
  });

export const isFinished = (state: CampaignState): boolean => state === 'COMPLETED' || state === 'CANCELLED';

/**
 * The exit status a campaign's progress gives, by the one table: UNKNOWN recipients (3) outrank FAILED ones (1);
 * a cancelled campaign that left recipients unsent is 1 (nothing was issued to them); one still going is 3, as
 * its outcome is not known yet; 0 only when it COMPLETED with every recipient SENT.
 */
export function exitForProgress(p: Pick<Progress, 'state' | 'failed' | 'unknown' | 'pending'>): ExitCode {
  if (p.unknown > 0) return EXIT.unknown;
  if (!isFinished(p.state)) return EXIT.unknown;
  if (p.failed > 0) return EXIT.failed;
  if (p.pending > 0) return p.state === 'CANCELLED' ? EXIT.failed : EXIT.unknown;
  return EXIT.ok;
}

const group = (n: number): string => n.toLocaleString('en-US');

/** A duration in seconds as `1h02m03s`, `4m05s` or `12s`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h${two(m)}m${two(rest)}s`;
  if (m > 0) return `${m}m${two(rest)}s`;
  return `${rest}s`;
}

/** The ETA as the stack gives it (seconds left, or the time it expects to finish), as time left. */
export function etaText(eta: string | number, now = Date.now()): string {
  if (typeof eta === 'number') return duration(eta);
  const at = Date.parse(eta);
  return Number.isNaN(at) ? inline(eta.slice(0, 40)) : duration((at - now) / 1000);
}

/** One line for people: `promo-1: RUNNING, 12,000 of 20,000 done (sent …; planned …), ETA 3m20s`. */
export function statusLine(p: Progress): string {
  const done = p.sent + p.failed + p.unknown;
  const eta = p.eta !== undefined && !isFinished(p.state) ? `, ETA ${etaText(p.eta)}` : '';
  return (
    `${inline(p.campaignId)}: ${p.state}, ${group(done)} of ${group(p.total)} done ` +
    `(sent ${group(p.sent)}, failed ${group(p.failed)}, unknown ${group(p.unknown)}, pending ${group(p.pending)}; ` +
    `planned ${group(p.planned)})${eta}`
  );
}

/** The full status for people: the line, when it started, and the invalid lines of its list. */
export function statusText(p: Progress): string {
  const lines = [statusLine(p)];
  if (p.startedAt !== undefined) {
    const at = typeof p.startedAt === 'number' ? new Date(p.startedAt).toISOString() : inline(p.startedAt.slice(0, 40));
    lines.push(`started ${at}`);
  }
  if (p.invalidLines && p.invalidLines.length > 0) {
    lines.push(`invalid lines of the list (never sent):`);
    lines.push(...invalidLinesText(p.invalidLines));
  }
  return lines.join('\n');
}

export const invalidLinesText = (lines: ReadonlyArray<{ line: number; problem: string }>): string[] =>
  lines.map((l) => `  line ${l.line}: ${inline(l.problem)}`);

/** What the progress bar shows: done and total recipients, and a label (planning has no total yet). */
export function progressBar(p: Progress): { done: number; total: number; label: string } {
  const done = p.sent + p.failed + p.unknown;
  if (p.state === 'PLANNING' && p.total === 0)
    return { done: 0, total: 1, label: `${inline(p.campaignId)} planning, ${group(p.planned)} planned` };
  const extra = [
    p.failed > 0 ? `${group(p.failed)} failed` : '',
    p.unknown > 0 ? `${group(p.unknown)} unknown` : '',
    p.eta !== undefined ? `ETA ${etaText(p.eta)}` : '',
  ].filter((s) => s !== '');
  // A bar never reads full before the campaign is: done == total clears the line, so keep one short.
  const shown = isFinished(p.state) ? done : Math.min(done, Math.max(0, p.total - 1));
  return {
    done: shown,
    total: Math.max(p.total, 1),
    label: `${inline(p.campaignId)} ${p.state}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`,
  };
}

/** The reconcile command that settles UNKNOWN recipients of chunk n. */
export const reconcileCommand = (campaignId: string, n: number): string =>
  `coupon reconcile --request-id ${campaignId}:${n}`;

/** One line of a results file, as the command reads it. */
export interface ResultRow {
  requestId: string;
  uid: string;
  amount: string;
  status: 'SENT' | 'FAILED' | 'UNKNOWN';
  youhuiId?: string;
  code?: string;
  message?: string;
}

const UID = /^[1-9][0-9]{0,18}$/;
const STATUSES: readonly string[] = ['SENT', 'FAILED', 'UNKNOWN'];

/** A results file's line read strictly: whole uid digits, a known status, text fields as text. */
export function readResultLine(text: string, requestId: string): ResultRow | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'is not JSON' };
  }
  if (!isObject(value)) return { problem: 'is not a JSON object' };
  const { uid, amount, status, youhuiId, code, message } = value;
  if (typeof uid !== 'string' || !UID.test(uid)) return { problem: 'uid is not a string of digits' };
  if (typeof amount !== 'string' || !/^\d+(\.\d{1,2})?$/.test(amount)) return { problem: 'amount is not a decimal' };
  if (typeof status !== 'string' || !STATUSES.includes(status))
    return { problem: 'status is not SENT, FAILED or UNKNOWN' };
  const row: ResultRow = { requestId, uid, amount, status: status as ResultRow['status'] };
  if (typeof youhuiId === 'string') row.youhuiId = youhuiId;
  if (typeof code === 'string') row.code = code;
  if (typeof message === 'string') row.message = message;
  return row;
}

/**
 * The results table, streamed: fixed columns wide enough for any RequestId of this campaign, any masked or whole
 * uid and amount, so a million rows are written as they are read, never held. Cells are inline-safe.
 */
export function resultsTable(campaignId: string, chunks: number) {
  const widths = [
    Math.max('RequestId'.length, campaignId.length + 1 + String(Math.max(1, chunks)).length),
    19,
    10,
    7,
    20,
    24,
  ];
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i < widths.length ? inline(c).padEnd(widths[i] ?? 0) : inline(c)))
      .join('  ')
      .trimEnd();
  return {
    header: [
      line(['RequestId', 'uid', 'amount', 'status', 'youhuiId', 'Code', 'next']),
      line([...widths.map((w) => '-'.repeat(w)), '----']),
    ].join('\n'),
    row: (r: ResultRow, uid: string, n: number): string =>
      line([
        r.requestId,
        uid,
        r.amount,
        r.status,
        r.youhuiId ?? '',
        r.code ?? '',
        r.status === 'UNKNOWN' ? reconcileCommand(campaignId, n) : '',
      ]),
  };
}

/** A results line as JSONL output: the uid as shown (masked unless asked), the reconcile command when UNKNOWN. */
export function resultJson(r: ResultRow, uid: string, campaignId: string, n: number): string {
  return JSON.stringify({
    requestId: r.requestId,
    uid,
    amount: r.amount,
    status: r.status,
    ...(r.youhuiId === undefined ? {} : { youhuiId: r.youhuiId }),
    ...(r.code === undefined ? {} : { code: r.code }),
    ...(r.message === undefined ? {} : { message: r.message }),
    ...(r.status === 'UNKNOWN' ? { reconcile: reconcileCommand(campaignId, n) } : {}),
  });
}
