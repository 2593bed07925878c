import type { Env } from '../lib/config.js';
import { keyOf } from '../lib/idempotency/keys.js';
import type { IdempotencyRecord } from '../lib/idempotency/types.js';
import { checkRecord } from '../lib/operations/check.js';
import { redisRecords, type Records } from '../lib/operations/read.js';
import { CallError, NotFoundError, UsageError } from './exit.js';
import { inline } from './terminal.js';
import { localBase, localCredentials, request } from './target.js';

export type { Records };

/** The local stack keeps its store in its own process: it serves it under /__gateway/store/. */
function fromLocalStack(env: Env): Records {
  const base = localBase(env);
  const credentials = localCredentials(env);
  const call = async (method: string, path: string, body = '') => {
    let res: Response;
    try {
      res = await request(method, new URL(`/__gateway/store/records${path}`, base), body, credentials);
    } catch {
      throw new CallError(`the local stack does not answer at ${base.href} (start it with npm start, or set PORT)`);
    }
    if (res.status === 401 || res.status === 403)
      throw new UsageError('the local stack refused the call: set LOCAL_CALLER_KEYS as the stack has it');
    return res;
  };
  const json = async (res: Response, what: string): Promise<Record<string, unknown>> => {
    const text = await res.text();
    try {
      const parsed = JSON.parse(text) as unknown;
      if (res.ok && parsed !== null && typeof parsed === 'object') return parsed as Record<string, unknown>;
    } catch {
      // answered below, with the status
    }
    throw new CallError(
      `the local stack could not give ${what} (HTTP ${res.status}); when its store is Redis, coupon … --store redis://… reads it directly`,
    );
  };
  return {
    async get(key) {
      const res = await call('GET', `/${key}`);
      if (res.status === 404) return undefined;
      return checkRecord((await json(res, 'the record'))['record']);
    },
    async *list() {
      const all = (await json(await call('GET', ''), 'its records'))['records'];
      for (const entry of Array.isArray(all) ? (all as Array<Record<string, unknown>>) : []) {
        yield { key: String(entry['key']), checked: checkRecord(entry['record']) };
      }
    },
    async amendChunk(key, chunk, record) {
      return (await call('PUT', `/${key}/chunks/${chunk}`, JSON.stringify(record))).status === 200;
    },
    async close() {},
  };
}

export async function openRecords(store: string | undefined, env: Env): Promise<Records> {
  const url = store ?? env['IDEMPOTENCY_STORE'];
  if (url && /^rediss?:\/\//.test(url)) return redisRecords(url);
  if (url && url !== 'memory')
    throw new UsageError('--store (or IDEMPOTENCY_STORE) must be a redis:// or rediss:// URL, or memory');
  return fromLocalStack(env);
}

export interface FoundRecord {
  key: string;
  record: IdempotencyRecord;
}

/** A line for stderr naming a malformed record and what is wrong with it. */
export const malformedNote = (key: string, problems: readonly string[]): string =>
  `coupon: skipped the malformed record ${inline(key)}: ${problems.map(inline).join('; ')}`;

const refused = (requestId: string, key: string, problems: readonly string[]) =>
  new UsageError(
    `the record of ${inline(requestId)} (key ${inline(key)}) is malformed and cannot be used: ${problems.map(inline).join('; ')}`,
  );

/**
 * The operation with this RequestId: by its key when seller and FromApp are known (flags, else SELLER_ID and
 * FROM_APP), else the one record that carries it. Malformed records on the way are reported through `note`.
 */
export async function findOperation(
  records: Records,
  requestId: string,
  seller: string | undefined,
  fromApp: string | undefined,
  note: (text: string) => void,
): Promise<FoundRecord> {
  if (seller !== undefined && fromApp !== undefined) {
    const key = keyOf(seller, fromApp, requestId);
    const checked = await records.get(key);
    if (!checked)
      throw new NotFoundError(
        `no operation ${inline(requestId)} of seller ${inline(seller)} from ${inline(fromApp)} in the store`,
      );
    if (!checked.ok) throw refused(requestId, key, checked.problems);
    return { key, record: checked.record };
  }
  const matches: FoundRecord[] = [];
  let skipped = 0;
  for await (const { key, checked } of records.list()) {
    const id = checked.ok ? checked.record.op : checked.identity;
    const same =
      id?.requestId === requestId &&
      (seller === undefined || id.sellerId === seller) &&
      (fromApp === undefined || id.fromApp === fromApp);
    if (!checked.ok) {
      if (same) throw refused(requestId, key, checked.problems);
      note(malformedNote(key, checked.problems));
      skipped += 1;
    } else if (same) matches.push({ key, record: checked.record });
  }
  if (matches.length === 0) {
    const unread =
      skipped === 0
        ? ''
        : ` (${skipped} malformed record(s) skipped, named above: if it is one of them, give --seller and --from-app to read it by its key)`;
    throw new NotFoundError(`no operation with RequestId ${inline(requestId)} in the store${unread}`);
  }
  if (matches.length > 1)
    throw new UsageError(
      `${matches.length} operations have RequestId ${inline(requestId)}: give --seller and --from-app`,
    );
  return matches[0] as FoundRecord;
}
