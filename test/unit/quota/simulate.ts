import { initialState, reserve, type Lane, type QuotaSettings } from '../../../lib/quota/gcra.js';

export interface Worker {
  lane: Lane;
  /** When this worker first asks (µs), and how long each of its calls takes before it asks again. */
  startAt: number;
  callUs: number;
  /** Asks only this many times (default: until the end). */
  calls?: number;
  maxWaitUs?: number;
}

export interface Start {
  lane: Lane;
  at: number;
  /** From the worker's first request for this call to the call's start. */
  waitedUs: number;
  requests: number;
}

/** Runs workers against one schedule on a virtual clock; returns every call's start, in time order. */
export function simulate(settings: QuotaSettings, workers: Worker[], untilUs: number): Start[] {
  const state = initialState();
  const starts: Start[] = [];
  type Ev = { at: number; w: number; ticket: number; askedAt: number; requests: number; done: number };
  const queue: Ev[] = workers.map((w, i) => ({
    at: w.startAt,
    w: i,
    ticket: 0,
    askedAt: w.startAt,
    requests: 0,
    done: 0,
  }));
  while (queue.length > 0) {
    queue.sort((a, b) => a.at - b.at || a.w - b.w);
    const ev = queue.shift()!;
    if (ev.at > untilUs) break;
    const worker = workers[ev.w]!;
    const d = reserve(
      state,
      settings,
      { lane: worker.lane, maxWaitUs: worker.maxWaitUs ?? 60e6, ticket: ev.ticket },
      ev.at,
    );
    ev.requests += 1;
    if (d.granted) {
      const at = ev.at + d.waitUs;
      starts.push({ lane: worker.lane, at, waitedUs: at - ev.askedAt, requests: ev.requests });
      const done = ev.done + 1;
      if (worker.calls !== undefined && done >= worker.calls) continue;
      const next = at + worker.callUs;
      queue.push({ at: next, w: ev.w, ticket: 0, askedAt: next, requests: 0, done });
    } else {
      queue.push({ ...ev, at: ev.at + d.retryAfterUs, ticket: d.ticket });
    }
  }
  return starts.sort((a, b) => a.at - b.at);
}

/** The most starts in any window of `windowUs` (a window holds starts at t with x - window < t <= x). */
export function maxInWindow(times: number[], windowUs = 1e6): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[lo]! <= times[hi]! - windowUs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
