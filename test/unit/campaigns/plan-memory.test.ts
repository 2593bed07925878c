import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./plan-memory-child.ts', import.meta.url));
const MB = 1024 * 1024;

describe('planning memory', () => {
  it('plans 50,000 lines of ~1 KiB (a 50 MB list) with memory bounded far below the list size', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, LINES: '50000', LINE_BYTES: '1024' },
      maxBuffer: 1024 * 1024,
    });
    const m = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
    expect(m['total']).toBe(50_000);
    expect(m['chunks']).toBe(50);
    expect(m['bytes']).toBeGreaterThan(48 * MB);
    // Holding the list would take more than 50 MB; the planner keeps a line, a chunk and the uid set (1.5 MB here).
    expect(m['rssGrowth']).toBeLessThan(32 * MB);
    expect(m['externalGrowth']).toBeLessThan(8 * MB);
  });
});
