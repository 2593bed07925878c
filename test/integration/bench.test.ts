import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run bench', () => {
  it('runs end to end in tiny mode and reports every figure next to its comparison', () => {
    const work = mkdtempSync(join(tmpdir(), 'coupon-bench-'));
    const out = join(work, 'results.json');
    execFileSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--tiny', '--out', out, '--work', work], {
      cwd: root,
      stdio: 'pipe',
      timeout: 300_000,
    });
    const r = JSON.parse(readFileSync(out, 'utf8'));
    expect(r.mode).toBe('tiny');
    expect(r.coldStart.failures).toEqual([]);
    for (const row of [
      'bare node',
      'reference',
      'coupon-http (memory)',
      'coupon-event (memory)',
      'coupon-timer (memory)',
    ]) {
      expect(r.coldStart.wallMsSpawnToFirstAnswer[row].median).toBeGreaterThan(0);
    }
    expect(r.warm.ours.median).toBeGreaterThan(0);
    expect(r.warm.sdk.median).toBeGreaterThan(0);
    // Counted, not assumed: the writes the function makes to Redis per single-chunk operation (the claim, the
    // chunk's slot of the shared quota, SENDING, and the settled record; on a busy machine now and then a slot is
    // taken again, its answer having come too late for it).
    expect(r.warm.redis.roundTripsPerOperation).toBeGreaterThanOrEqual(4);
    expect(r.warm.redis.roundTripsPerOperation).toBeLessThan(4.2);
    expect(Object.keys(r.codeCacheKiB)).toEqual(expect.arrayContaining(['coupon-http']));
    expect(r.largeSend.issuedOncePerRecipient).toBe(true);
    expect(r.largeSend.sent).toBe(r.largeSend.recipients);
    expect(Object.keys(r.artifactsKiB)).toEqual(
      expect.arrayContaining(['coupon-http', 'coupon-event', 'coupon-timer']),
    );
    expect(typeof r.nodeExtraCaCerts.setInBenchEnvironment).toBe('boolean');
    expect(r.goals.length).toBeGreaterThan(4);
    expect(r.quota.length).toBeGreaterThan(0);
    expect(r.campaign.length).toBeGreaterThan(0);
    // Every section ran, campaigns included, and even tiny, no recipient was issued twice or missed.
    const once = r.campaign.filter((c: { name: string }) => /exactly once|duplicate/i.test(c.name));
    expect(once.length).toBeGreaterThanOrEqual(3);
    expect(once.filter((c: { met: boolean }) => !c.met)).toEqual([]);
  }, 300_000);
});
