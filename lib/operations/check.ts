import type { ChunkState, IdempotencyRecord, RecordStatus } from '../idempotency/types.js';

/*
 * A record read from the store is checked before any command relies on it: a store shared with other tools, a
 * bad migration or a hand edit can hold anything. A record is either usable, or its problems are named (which
 * field, what is wrong), so a command can skip it or refuse it, never crash on it.
 */
export type Checked = { ok: true; record: IdempotencyRecord } | { ok: false; problems: string[]; identity?: Identity };

/** What a malformed record still says about which operation it is, when that much can be read. */
export interface Identity {
  requestId: string;
  sellerId?: string;
  fromApp?: string;
}

function identityOf(op: unknown): Identity | undefined {
  if (!isObject(op) || typeof op['requestId'] !== 'string') return undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const sellerId = text(op['sellerId']);
  const fromApp = text(op['fromApp']);
  return { requestId: op['requestId'], ...(sellerId ? { sellerId } : {}), ...(fromApp ? { fromApp } : {}) };
}

// Written as records so that a state added to the store's types fails the type check here until it is known.
const CHUNK_STATES = { SENDING: true, SENT: true, FAILED: true, UNKNOWN: true, PENDING: true } satisfies Record<
  ChunkState,
  true
>;
const RECORD_STATUSES = { IN_PROGRESS: true, COMPLETED: true } satisfies Record<RecordStatus, true>;
const STATES = new Set(Object.keys(CHUNK_STATES));
const STATUSES = new Set(Object.keys(RECORD_STATUSES));
const DIGITS = /^[0-9]{1,40}$/;
const AMOUNT = /^[0-9]+(\.[0-9]+)?$/;
const MAX_PROBLEMS = 5;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const show = (v: unknown): string => {
  const text = typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function checkCouponId(v: unknown): boolean {
  return isObject(v) && typeof v['text'] === 'string' && (v['kind'] === 'number' || v['kind'] === 'string');
}

function checkChunk(field: string, v: unknown, size: number, problems: string[]): void {
  if (!isObject(v)) return void problems.push(`${field} must be an object (got ${show(v)})`);
  if (typeof v['state'] !== 'string' || !STATES.has(v['state']))
    problems.push(`${field}.state must be one of ${[...STATES].join(', ')} (got ${show(v['state'])})`);
  if (typeof v['upstreamRequestId'] !== 'string') problems.push(`${field}.upstreamRequestId must be text`);
  if (!isTime(v['at'])) problems.push(`${field}.at must be a time in ms (got ${show(v['at'])})`);
  for (const name of ['code', 'message'] as const)
    if (v[name] !== undefined && typeof v[name] !== 'string') problems.push(`${field}.${name} must be text`);
  const confirmed = v['confirmed'];
  if (confirmed !== undefined) {
    if (!Array.isArray(confirmed) || confirmed.length > size) problems.push(`${field}.confirmed must be a list`);
    else if (
      !confirmed.every(
        (c) => c === null || (isObject(c) && (c['youhuiId'] === undefined || checkCouponId(c['youhuiId']))),
      )
    )
      problems.push(`${field}.confirmed holds an entry that is not a confirmation`);
  }
  const reconciled = v['reconciled'];
  if (reconciled !== undefined) {
    if (!Array.isArray(reconciled) || reconciled.length > size) problems.push(`${field}.reconciled must be a list`);
    else if (
      !reconciled.every(
        (r) =>
          r === null ||
          (isObject(r) &&
            ((r['issued'] === true && checkCouponId(r['youhuiId'])) ||
              (r['issued'] === false && (r['resentAs'] === undefined || typeof r['resentAs'] === 'string')))),
      )
    )
      problems.push(`${field}.reconciled holds an entry that is not a finding`);
  }
}

function checkOp(v: unknown, problems: string[]): number {
  if (v === undefined) {
    problems.push('op is missing (a record written before operations were kept with their records)');
    return 0;
  }
  if (!isObject(v)) {
    problems.push(`op must be an object (got ${show(v)})`);
    return 0;
  }
  for (const name of ['sellerId', 'templateId'] as const)
    if (typeof v[name] !== 'string' || !DIGITS.test(v[name]))
      problems.push(`op.${name} must be digits (got ${show(v[name])})`);
  for (const name of ['fromApp', 'requestId'] as const)
    if (typeof v[name] !== 'string' || v[name] === '') problems.push(`op.${name} must be text (got ${show(v[name])})`);
  const list = v['recipients'];
  if (!Array.isArray(list) || list.length === 0) {
    problems.push(`op.recipients must be a non-empty list of [uid, amount] (got ${show(list)})`);
    return 0;
  }
  const bad = list.findIndex(
    (r) =>
      !Array.isArray(r) ||
      r.length !== 2 ||
      typeof r[0] !== 'string' ||
      !DIGITS.test(r[0]) ||
      typeof r[1] !== 'string' ||
      !AMOUNT.test(r[1]),
  );
  if (bad >= 0) problems.push(`op.recipients[${bad}] must be [uid digits, amount] (got ${show(list[bad])})`);
  return list.length;
}

/** Checks a record in its parsed form (as the local stack serves it). */
export function checkRecord(value: unknown): Checked {
  if (!isObject(value)) return { ok: false, problems: [`the record must be an object (got ${show(value)})`] };
  const problems: string[] = [];
  if (typeof value['status'] !== 'string' || !STATUSES.has(value['status']))
    problems.push(`status must be one of ${[...STATUSES].join(', ')} (got ${show(value['status'])})`);
  if (value['createdAt'] !== undefined && !isTime(value['createdAt']))
    problems.push(`createdAt must be a time in ms (got ${show(value['createdAt'])})`);
  if (!isTime(value['leaseUntil'])) problems.push(`leaseUntil must be a time in ms (got ${show(value['leaseUntil'])})`);
  const size = value['chunkSize'];
  const sizeOk = typeof size === 'number' && Number.isInteger(size) && size >= 1;
  if (!sizeOk) problems.push(`chunkSize must be a whole number >= 1 (got ${show(size)})`);
  const count = checkOp(value['op'], problems);
  const chunks = value['chunks'];
  if (!isObject(chunks)) problems.push(`chunks must be an object (got ${show(chunks)})`);
  else if (sizeOk) {
    const most = Math.ceil(count / size);
    for (const [n, chunk] of Object.entries(chunks)) {
      if (!/^[1-9][0-9]*$/.test(n) || (count > 0 && Number(n) > most))
        problems.push(`chunk ${show(n)} is not a chunk of this operation (it has ${most})`);
      else checkChunk(`c:${n}`, chunk, size, problems);
    }
  }
  if (problems.length > 0) {
    const identity = identityOf(value['op']);
    return { ok: false, problems: problems.slice(0, MAX_PROBLEMS), ...(identity ? { identity } : {}) };
  }
  return { ok: true, record: value as unknown as IdempotencyRecord };
}

/**
 * Checks a record as Redis keeps it (a hash: status, leaseUntil, chunkSize, createdAt, op and c:<n> as JSON text). Text
 * that is not JSON is a problem of its field, never an exception.
 */
export function checkRedisHash(flat: readonly string[]): Checked {
  const problems: string[] = [];
  const value: Json = { chunks: {} };
  const chunks: Record<string, unknown> = {};
  const json = (field: string, text: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      problems.push(`${field} is not JSON (starts ${show(text.slice(0, 20))})`);
      return undefined;
    }
  };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i] ?? '';
    const text = flat[i + 1] ?? '';
    if (field === 'status' || field === 'hash' || field === 'owner') value[field] = text;
    else if (field === 'leaseUntil' || field === 'chunkSize' || field === 'createdAt')
      value[field] = /^[0-9]+$/.test(text) ? Number(text) : text;
    else if (field === 'op') value['op'] = json('op', text);
    else if (field.startsWith('c:')) chunks[field.slice(2)] = json(field, text);
  }
  value['chunks'] = chunks;
  const checked = checkRecord(value);
  if (problems.length === 0) return checked;
  const identity = identityOf(value['op']);
  const rest = checked.ok ? [] : checked.problems.filter((p) => !p.startsWith('op ') && !p.startsWith('c:'));
  return { ok: false, problems: [...problems, ...rest].slice(0, MAX_PROBLEMS), ...(identity ? { identity } : {}) };
}
