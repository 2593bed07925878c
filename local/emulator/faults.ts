export type FaultMode = 'throttle' | 'error' | 'business-error' | 'timeout-before' | 'timeout-after' | 'respond';

export interface Fault {
  mode: FaultMode;
  remaining: number;
  code?: string;
  status?: number;
  delayMs?: number;
  /** `respond`: the exact body to answer with (after issuing the coupons when `issue` is not false). */
  body?: string;
  issue?: boolean;
  /** Extra response headers (e.g. `Retry-After`, `x-acs-retry-after`) for any mode that answers. */
  headers?: Record<string, string>;
}

const MODES: readonly FaultMode[] = [
  'throttle',
  'error',
  'business-error',
  'timeout-before',
  'timeout-after',
  'respond',
];

const isStringRecord = (v: unknown): v is Record<string, string> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/** Parses a POST /__emulator/faults body; returns the problems instead when it is not a valid fault. */
export function parseFault(value: unknown): Fault | string[] {
  const problems: string[] = [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['the body must be a JSON object'];
  const v = value as Record<string, unknown>;
  const mode = v['mode'];
  if (typeof mode !== 'string' || !MODES.includes(mode as FaultMode))
    problems.push(`mode must be one of ${MODES.join(', ')}`);
  const count = v['count'] ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1)
    problems.push('count must be a whole number >= 1');
  if (v['code'] !== undefined && typeof v['code'] !== 'string') problems.push('code must be a string');
  if (v['status'] !== undefined && (typeof v['status'] !== 'number' || v['status'] < 100 || v['status'] > 599))
    problems.push('status must be an HTTP status');
  if (v['delayMs'] !== undefined && (typeof v['delayMs'] !== 'number' || v['delayMs'] < 0))
    problems.push('delayMs must be a number >= 0');
  if (v['body'] !== undefined && typeof v['body'] !== 'string') problems.push('body must be a string');
  if (v['issue'] !== undefined && typeof v['issue'] !== 'boolean') problems.push('issue must be true or false');
  if (v['headers'] !== undefined && !isStringRecord(v['headers']))
    problems.push('headers must be an object of strings');
  if (mode === 'respond' && typeof v['body'] !== 'string') problems.push('respond needs a body');
  if (problems.length > 0) return problems;
  const fault: Fault = { mode: mode as FaultMode, remaining: count as number };
  if (typeof v['code'] === 'string') fault.code = v['code'];
  if (typeof v['status'] === 'number') fault.status = v['status'];
  if (typeof v['delayMs'] === 'number') fault.delayMs = v['delayMs'];
  if (typeof v['body'] === 'string') fault.body = v['body'];
  if (typeof v['issue'] === 'boolean') fault.issue = v['issue'];
  if (isStringRecord(v['headers'])) fault.headers = v['headers'];
  return fault;
}

/** Faults apply in the order they were queued, each to its next `count` SendCoupon calls. */
export class FaultQueue {
  private queue: Fault[] = [];

  push(fault: Fault): void {
    this.queue.push(fault);
  }

  take(): Fault | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.queue.shift();
    return head;
  }

  reset(): void {
    this.queue = [];
  }
}
