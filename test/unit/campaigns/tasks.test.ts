import { describe, expect, it } from 'vitest';
import { campaignView, manifestKey, plannerTaskId, roundChunkTaskId } from '../../../lib/campaigns/tasks.js';
import type { CampaignRecord } from '../../../lib/campaigns/state.js';

const record: CampaignRecord = {
  campaignId: 'spring',
  state: 'RUNNING',
  listSha256: '',
  planningDone: true,
  total: 10_000,
  totalCents: 0,
  chunks: 10,
  planned: 10_000,
  sent: 4000,
  failed: 10,
  unknown: 0,
  chunksDone: 4,
  resumes: 0,
  startedAt: Date.UTC(2026, 10, 30, 8, 0, 0),
};

describe('campaign task ids', () => {
  it.each([
    ['start', 'spring-plan', 'spring-c7'],
    [{ resume: 2 }, 'spring-plan-2', 'spring-c7-r2'],
    ['cancel', 'spring-plan-x', 'spring-c7-x'],
  ] as const)('round %j: planner %s, chunk %s', (round, planner, chunk) => {
    expect(plannerTaskId('spring', round)).toBe(planner);
    expect(roundChunkTaskId('spring', 7, round)).toBe(chunk);
  });

  it('keeps every id within FC task ids (letters, digits, _ and -; at most 128)', () => {
    const id = 'a'.repeat(48);
    for (const round of ['start', 'cancel', { resume: 999 }] as const) {
      expect(plannerTaskId(id, round)).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
      expect(roundChunkTaskId(id, 2000, round)).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
    }
    expect(manifestKey('campaigns', 'spring')).toBe('campaigns/spring/campaign.json');
  });
});

describe('the progress object', () => {
  const now = Date.UTC(2026, 10, 30, 9, 0, 0);

  it('has the counts, the start time and an ETA at the quota while recipients are pending', () => {
    expect(campaignView(record, 100, now)).toEqual({
      campaignId: 'spring',
      state: 'RUNNING',
      total: 10_000,
      planned: 10_000,
      sent: 4000,
      failed: 10,
      unknown: 0,
      pending: 5990,
      startedAt: '2026-11-30T08:00:00.000Z',
      eta: new Date(now + 60_000).toISOString(),
    });
  });

  it('has no ETA once nothing is pending or the campaign is paused, and names invalid lines when there are some', () => {
    expect(campaignView({ ...record, sent: 9990 }, 100, now).eta).toBeUndefined();
    expect(campaignView({ ...record, state: 'PAUSED' }, 100, now).eta).toBeUndefined();
    const lines = [{ line: 3, problem: 'amount must be greater than 0' }];
    expect(campaignView(record, 100, now, lines).invalidLines).toEqual(lines);
    expect('invalidLines' in campaignView(record, 100, now, [])).toBe(false);
  });
});
