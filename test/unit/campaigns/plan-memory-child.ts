/**
 * Plans a generated list of LINES lines of about LINE_BYTES bytes each, streamed (never held by this process),
 * and prints the planner's memory growth as one JSON line. Run by plan-memory.test.ts in a fresh process.
 */
import { Readable } from 'node:stream';
import { planList } from '../../../lib/campaigns/plan.js';

const lines = Number(process.env['LINES'] ?? 50_000);
const lineBytes = Number(process.env['LINE_BYTES'] ?? 1024);

function* list(): Generator<Buffer> {
  const pad = ' '.repeat(Math.max(0, lineBytes - 50));
  let batch: string[] = [];
  for (let i = 1; i <= lines; i++) {
    batch.push(`{"uid":"${1918000000000 + i * 7}",${pad}"amount":${(i % 500) + 1}.25}`);
    if (batch.length === 64) {
      yield Buffer.from(`${batch.join('\n')}\n`);
      batch = [];
    }
  }
  if (batch.length > 0) yield Buffer.from(`${batch.join('\n')}\n`);
}

const before = process.memoryUsage();
let peakRss = before.rss;
let peakExternal = before.arrayBuffers;
const sample = () => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakExternal = Math.max(peakExternal, m.arrayBuffers);
};
const timer = setInterval(sample, 5);
const plan = await planList(Readable.from(list()), { maxCouponAmount: 10000, onChunk: sample });
clearInterval(timer);
sample();
process.stdout.write(
  `${JSON.stringify({
    total: plan.total,
    bytes: plan.bytes,
    chunks: plan.chunks,
    rssGrowth: peakRss - before.rss,
    externalGrowth: peakExternal - before.arrayBuffers,
  })}\n`,
);
