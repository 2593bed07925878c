import { describe, expect, it } from 'vitest';
import {
  afterPlanning,
  control,
  countsOf,
  etaSeconds,
  outcomeOf,
  recipientsPerSecond,
  settled,
  type CampaignRecord,
  type CampaignState,
  type ControlAction,
} from '../../../lib/campaigns/state.js';

describe('campaign states', () => {
  it.each<[CampaignState, boolean, ControlAction, CampaignState | 'refused']>([
    ['PLANNING', false, 'pause', 'PAUSED'],
    ['RUNNING', true, 'pause', 'PAUSED'],
    ['PAUSED', true, 'pause', 'PAUSED'],
    ['PAUSED', false, 'resume', 'PLANNING'],
    ['PAUSED', true, 'resume', 'RUNNING'],
    ['RUNNING', true, 'resume', 'RUNNING'],
    ['PLANNING', false, 'cancel', 'CANCELLED'],
    ['RUNNING', true, 'cancel', 'CANCELLED'],
    ['PAUSED', true, 'cancel', 'CANCELLED'],
    ['CANCELLED', true, 'cancel', 'CANCELLED'],
    ['CANCELLED', true, 'pause', 'refused'],
    ['CANCELLED', true, 'resume', 'refused'],
    ['COMPLETED', true, 'pause', 'refused'],
    ['COMPLETED', true, 'resume', 'refused'],
    ['COMPLETED', true, 'cancel', 'refused'],
  ])('%s (planning done: %s) + %s → %s', (state, planningDone, action, expected) => {
    const t = control({ state, planningDone }, action);
    expect(t.ok ? t.state : 'refused').toBe(expected);
  });

  it.each<[CampaignState, CampaignState]>([
    ['PLANNING', 'RUNNING'],
    ['PAUSED', 'PAUSED'],
    ['CANCELLED', 'CANCELLED'],
  ])('finishing planning in %s gives %s', (state, expected) => {
    expect(afterPlanning(state)).toBe(expected);
  });

  it.each<[CampaignState, boolean, number, number, CampaignState]>([
    ['RUNNING', true, 3, 3, 'COMPLETED'],
    ['PAUSED', true, 3, 3, 'COMPLETED'],
    ['RUNNING', true, 3, 2, 'RUNNING'],
    ['RUNNING', false, 3, 3, 'RUNNING'],
    ['CANCELLED', true, 3, 3, 'CANCELLED'],
    ['PLANNING', false, 0, 0, 'PLANNING'],
  ])('%s, planning done %s, %i chunks, %i counted → %s', (state, planningDone, chunks, chunksDone, expected) => {
    expect(settled({ state, planningDone, chunks, chunksDone })).toBe(expected);
  });
});

describe('counts and ETA', () => {
  const record: CampaignRecord = {
    campaignId: 'c',
    state: 'RUNNING',
    listSha256: '',
    planningDone: true,
    total: 1_000_000,
    totalCents: 0,
    chunks: 1000,
    planned: 400_000,
    sent: 250_000,
    failed: 10,
    unknown: 5,
    chunksDone: 250,
    resumes: 0,
    startedAt: 0,
  };

  it('counts every recipient once: pending is what is neither sent, failed nor unknown', () => {
    expect(countsOf(record)).toEqual({
      total: 1_000_000,
      planned: 400_000,
      sent: 250_000,
      failed: 10,
      unknown: 5,
      pending: 749_985,
    });
  });

  it('estimates the time left at the configured quota', () => {
    const rate = recipientsPerSecond(50, 50);
    expect(rate).toBe(2500);
    expect(etaSeconds(countsOf(record), rate)).toBe(300);
    expect(etaSeconds({ ...countsOf(record), pending: 0 }, 0)).toBe(0);
    expect(etaSeconds(countsOf(record), 0)).toBeUndefined();
  });

  it('turns per-recipient statuses into a chunk outcome', () => {
    expect(outcomeOf(['SENT', 'SENT', 'FAILED', 'UNKNOWN'])).toEqual({ sent: 2, failed: 1, unknown: 1 });
  });
});
