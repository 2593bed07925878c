import { describe, expect, it } from 'vitest';
import {
  BULK_HORIZON_US,
  currentRate,
  DECREASE,
  initialState,
  JITTER_CELLS,
  RECOVERY_SECONDS,
  reserve,
  throttled,
  type QuotaSettings,
} from '../../../lib/quota/gcra.js';
import { maxInWindow, simulate, type Worker } from './simulate.js';

const T0 = 1_000_000_000;
const settings: QuotaSettings = { qps: 50, burst: 10, bulkShare: 0.8 };
const interactive = { lane: 'interactive' as const, maxWaitUs: 60e6, ticket: 0 };

const workers = (n: number, w: Omit<Worker, 'startAt'> & { startAt?: number }): Worker[] =>
  Array.from({ length: n }, (_, i) => ({ startAt: T0 + i, ...w }));

describe('GCRA schedule', () => {
  it('lets a burst (less its margin for late timers) start at once, then spaces calls one interval apart', () => {
    const state = initialState();
    const s = { qps: 10, burst: 3 + JITTER_CELLS, bulkShare: 0.8 };
    const waits = Array.from({ length: 6 }, () => reserve(state, s, interactive, T0));
    expect(waits.map((d) => (d.granted ? d.waitUs : -1))).toEqual([0, 0, 0, 100_000, 200_000, 300_000]);
  });

  it.each([
    [50, 10, 64],
    [20, 1, 16],
    [7.5, 4, 3],
  ])('qps %d, burst %d, %d greedy callers: never more than qps + burst starts in any second', (qps, burst, n) => {
    const s = { qps, burst, bulkShare: 0.8 };
    const starts = simulate(s, workers(n, { lane: 'interactive', callUs: 5_000 }), T0 + 20e6);
    expect(maxInWindow(starts.map((x) => x.at))).toBeLessThanOrEqual(qps + burst);
    // And the quota is used: within one call of qps × 20 s + burst.
    expect(starts.length).toBeGreaterThanOrEqual(Math.floor(qps * 20 + burst - 1));
  });

  it('refuses a slot beyond the caller deadline without taking it, and says when one would fit', () => {
    const state = initialState();
    for (let i = 0; i < 20; i++) reserve(state, settings, interactive, T0);
    const before = { ...state };
    const d = reserve(state, settings, { ...interactive, maxWaitUs: 50_000 }, T0);
    expect(d).toMatchObject({ granted: false, retryAfterUs: 260_000 });
    expect(state.tat).toBe(before.tat);
    const fits = reserve(state, settings, interactive, T0 + 260_000);
    expect(fits).toMatchObject({ granted: true, waitUs: 0 });
  });

  it.each(['bulk', 'interactive'] as const)(
    'a %s caller whose deadline comes before the next slot is told when the slot is free, and takes no ticket',
    (lane) => {
      const state = initialState();
      for (let i = 0; i < 17; i++) reserve(state, settings, interactive, T0);
      // 17 cells taken, 7 of them at once: the next slot is 10 cells (200 ms) away.
      const d = reserve(state, settings, { lane, maxWaitUs: 150_000, ticket: 0 }, T0);
      expect(d).toMatchObject({ granted: false, retryAfterUs: 200_000 });
      expect(state.ticket).toBe(0);
    },
  );

  it('cuts the rate once per generation on a throttle and grows it back linearly', () => {
    const state = initialState();
    const g = reserve(state, settings, interactive, T0).generation;
    expect(throttled(state, settings, g, 0, T0)).toBe(g + 1);
    expect(currentRate(state, settings, T0)).toBeCloseTo(50 * DECREASE);
    // A throttle of a call scheduled before the cut does not cut again.
    expect(throttled(state, settings, g, 0, T0 + 1)).toBe(g + 1);
    expect(currentRate(state, settings, T0 + 1)).toBeCloseTo(50 * DECREASE, 3);
    const perSecond = 50 / RECOVERY_SECONDS;
    expect(currentRate(state, settings, T0 + 2e6)).toBeCloseTo(35 + 2 * perSecond, 3);
    expect(currentRate(state, settings, T0 + 60e6)).toBe(50);
  });

  it('pauses the whole schedule for the upstream Retry-After', () => {
    const state = initialState();
    throttled(state, settings, 0, 3e6, T0);
    const d = reserve(state, settings, interactive, T0);
    expect(d.granted && d.waitUs).toBeGreaterThanOrEqual(3e6 - 9 * (1e6 / 35));
  });
});

describe('lanes', () => {
  it('bulk never starves interactive: under saturating bulk work, an interactive call waits at most the bulk horizon', () => {
    const bulk = workers(64, { lane: 'bulk', callUs: 30_000 });
    const clicks: Worker[] = Array.from({ length: 100 }, (_, i) => ({
      lane: 'interactive',
      startAt: T0 + 2e6 + i * 130_000,
      callUs: 30_000,
      calls: 1,
    }));
    const starts = simulate(settings, [...bulk, ...clicks], T0 + 20e6);
    const waited = starts.filter((s) => s.lane === 'interactive').map((s) => s.waitedUs);
    expect(waited).toHaveLength(100);
    expect(Math.max(...waited)).toBeLessThanOrEqual(BULK_HORIZON_US + 3 * (1e6 / 50));
    expect(maxInWindow(starts.map((s) => s.at))).toBeLessThanOrEqual(60);
    // Bulk takes the rest of the quota, and no more than its share while interactive calls wait.
    const inRun = starts.filter((s) => s.at > T0 + 3e6 && s.at <= T0 + 14e6);
    const bulkPerSecond = inRun.filter((s) => s.lane === 'bulk').length / 11;
    expect(bulkPerSecond).toBeLessThanOrEqual(50 * 0.8 + 1);
    expect(bulkPerSecond).toBeGreaterThan(50 - 1e6 / 130_000 - 3);
  });

  it('interactive never starves bulk: saturating interactive work leaves bulk a share', () => {
    const starts = simulate(
      settings,
      [...workers(64, { lane: 'interactive', callUs: 30_000 }), ...workers(16, { lane: 'bulk', callUs: 30_000 })],
      T0 + 20e6,
    );
    const bulk = starts.filter((s) => s.lane === 'bulk' && s.at > T0 + 2e6).length / 18;
    expect(bulk).toBeGreaterThanOrEqual(50 * 0.1 * 0.9);
    expect(maxInWindow(starts.map((s) => s.at))).toBeLessThanOrEqual(60);
  });

  it('without interactive work, bulk takes the whole quota, a few requests per call', () => {
    const starts = simulate(settings, workers(64, { lane: 'bulk', callUs: 30_000 }), T0 + 20e6);
    expect(starts.length).toBeGreaterThanOrEqual(50 * 20);
    expect(maxInWindow(starts.map((s) => s.at))).toBeLessThanOrEqual(60);
    const requests = starts.reduce((n, s) => n + s.requests, 0) / starts.length;
    expect(requests).toBeLessThan(2.5);
  });
});
