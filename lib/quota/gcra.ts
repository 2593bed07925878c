/**
 * The shared upstream quota as a GCRA (generic cell rate algorithm) schedule with two lanes, as pure functions
 * over a state. lib/quota/lua.ts runs the same steps inside Redis (with the clock from Redis TIME); the memory
 * quota runs these for one process. Times are in microseconds of the one clock that owns the state.
 *
 * - Every call, of either lane, takes the next cell of one schedule (`tat`, the theoretical arrival time): its
 *   slot is never earlier than `tat - tau`, and `tat` moves on by one interval `1/rate`. So in any window of w
 *   seconds at most `burst + rate·w` calls start, whatever the number of callers (less a margin of
 *   JITTER_CELLS for timers that fire late).
 * - Interactive calls wait for their slot up to their deadline. Bulk calls take a slot only within a short
 *   horizon: the queue ahead of an interactive call is never longer than that. A bulk call refused for the
 *   horizon gets a ticket (a retry time one interval after the last ticket), so waiting bulk callers come back
 *   one at a time, as cells free up, instead of all at once.
 * - While interactive calls wait (a marker with a short life), bulk calls take at most `bulkShare` of the rate;
 *   while bulk calls wait, interactive calls take at most INTERACTIVE_MAX_SHARE, so bulk is never starved.
 * - An upstream throttle cuts the rate (multiplicative decrease, once per generation: the throttles of calls
 *   scheduled before a cut do not cut again), and the rate then recovers linearly over time up to the setting.
 */

export type Lane = 'interactive' | 'bulk';

export interface QuotaSettings {
  /** Calls per second the seller's quota allows (UPSTREAM_QPS). */
  qps: number;
  /** Calls that may start at once after a quiet time (UPSTREAM_BURST). */
  burst: number;
  /** The most of the rate bulk work takes while interactive work waits (BULK_SHARE). */
  bulkShare: number;
}

export interface QuotaState {
  tat: number;
  /** The lanes' own schedules, for their shares while the other lane waits. */
  tatBulk: number;
  tatInteractive: number;
  /** Until when a lane counts as waiting. */
  interactiveUntil: number;
  bulkUntil: number;
  /** The retry time of the last bulk ticket. */
  ticket: number;
  /** The rate right after the last cut, and when that was (0: never cut). */
  base: number;
  cutAt: number;
  generation: number;
}

export interface SlotRequest {
  lane: Lane;
  maxWaitUs: number;
  /** The retry time of the ticket this bulk caller holds (0: none): it has waited its turn in the line. */
  ticket: number;
}

export type Decision =
  | { granted: true; waitUs: number; generation: number }
  | { granted: false; retryAfterUs: number; ticket: number; generation: number };

/**
 * Cells of the burst kept back as a margin: an instance whose timer fires late (a busy event loop) sends its call
 * a little after its slot, next to calls sent on time, and the upstream must still see no more than the burst.
 */
export const JITTER_CELLS = 2;
/** How far ahead a bulk call may hold a slot: the longest queue an interactive call finds in front of it. */
export const BULK_HORIZON_US = 250_000;
/** How long a lane counts as waiting after its last request (beyond the slot it got). */
export const WAITING_MARK_US = 500_000;
/** While bulk work waits, interactive work takes at most this share, so bulk always keeps some. */
export const INTERACTIVE_MAX_SHARE = 0.9;
/** A throttle keeps this fraction of the rate. */
export const DECREASE = 0.7;
/** After a cut the rate grows back by qps/RECOVERY_SECONDS per second. */
export const RECOVERY_SECONDS = 25;
/** The rate never drops below qps/RATE_FLOOR_DIVISOR. */
export const RATE_FLOOR_DIVISOR = 50;
/** The longest pause an upstream Retry-After may impose on the whole schedule. */
export const MAX_PAUSE_US = 5_000_000;

export const initialState = (): QuotaState => ({
  tat: 0,
  tatBulk: 0,
  tatInteractive: 0,
  interactiveUntil: 0,
  bulkUntil: 0,
  ticket: 0,
  base: 0,
  cutAt: 0,
  generation: 0,
});

/** The rate now: the setting, or what a cut left plus what has grown back since. */
export function currentRate(state: QuotaState, settings: QuotaSettings, now: number): number {
  if (state.cutAt === 0) return settings.qps;
  return Math.min(settings.qps, state.base + ((settings.qps / RECOVERY_SECONDS) * (now - state.cutAt)) / 1e6);
}

/** One request for a slot, waiting at most `maxWaitUs`; changes `state` only as its decision says. */
export function reserve(state: QuotaState, settings: QuotaSettings, request: SlotRequest, now: number): Decision {
  const { lane, maxWaitUs } = request;
  const interval = 1e6 / currentRate(state, settings, now);
  const tau = Math.max(0, settings.burst - 1 - JITTER_CELLS) * interval;
  const slot = Math.max(now, state.tat - tau);
  const bulk = lane === 'bulk';
  const otherWaiting = bulk ? state.interactiveUntil > now : state.bulkUntil > now;
  const laneInterval = interval / (bulk ? settings.bulkShare : INTERACTIVE_MAX_SHARE);
  const laneTat = bulk ? state.tatBulk : state.tatInteractive;
  // One cell of tolerance: a caller back a little early for its lane's next cell is not sent round again.
  const capped = otherWaiting && laneTat - laneInterval > slot;
  // The next slot starts after the caller's deadline: it can never have one (a cut only makes slots later).
  const late = slot - now > maxWaitUs;
  // A line of refused bulk callers exists: a newcomer joins its end instead of jumping it.
  const queued = bulk && request.ticket === 0 && state.ticket > now;
  const { generation } = state;
  if (late || capped || queued || (bulk && slot - now > BULK_HORIZON_US)) {
    // Late: when a slot is free. Otherwise: when this caller's turn would come.
    let retryAt = late ? slot : Math.max(bulk ? slot - BULK_HORIZON_US : now, capped ? laneTat - laneInterval : now);
    // Tickets are one cell apart: as many waiting callers come back as cells free up for their lane.
    if (bulk && !late) retryAt = Math.max(retryAt, state.ticket + (otherWaiting ? laneInterval : interval));
    const retryAfterUs = retryAt - now;
    const waiting = now + Math.min(retryAfterUs, maxWaitUs) + WAITING_MARK_US;
    if (bulk) {
      state.bulkUntil = Math.max(state.bulkUntil, waiting);
      // A caller that will not wait that long gives up: it takes no place in the line.
      if (retryAfterUs <= maxWaitUs) state.ticket = retryAt;
    } else {
      state.interactiveUntil = Math.max(state.interactiveUntil, waiting);
    }
    return { granted: false, retryAfterUs, ticket: retryAt, generation };
  }
  state.tat = Math.max(state.tat, now) + interval;
  // A lane's own schedule counts only while the other lane waits; otherwise it starts afresh from this slot.
  const nextLaneTat = (otherWaiting ? Math.max(laneTat, slot) : slot) + laneInterval;
  if (bulk) {
    state.tatBulk = nextLaneTat;
    state.bulkUntil = Math.max(state.bulkUntil, slot + WAITING_MARK_US);
  } else {
    state.tatInteractive = nextLaneTat;
    state.interactiveUntil = Math.max(state.interactiveUntil, slot + WAITING_MARK_US);
  }
  return { granted: true, waitUs: slot - now, generation };
}

/**
 * An upstream throttle of a call scheduled in `generation`: cuts the rate once per generation, spends the burst and
 * pauses the schedule for one interval or the upstream's Retry-After (capped). Returns the generation after it.
 */
export function throttled(
  state: QuotaState,
  settings: QuotaSettings,
  generation: number,
  retryAfterUs: number,
  now: number,
): number {
  if (generation !== state.generation) return state.generation;
  state.base = Math.max(settings.qps / RATE_FLOOR_DIVISOR, currentRate(state, settings, now) * DECREASE);
  state.cutAt = now;
  state.generation += 1;
  // The upstream's own burst is spent: so is ours, and the next call waits an interval (or the Retry-After).
  const interval = 1e6 / state.base;
  const pause = Math.max(interval, Math.min(Math.max(retryAfterUs, 0), MAX_PAUSE_US));
  state.tat = Math.max(state.tat, now + pause + Math.max(0, settings.burst - 1 - JITTER_CELLS) * interval);
  return state.generation;
}
