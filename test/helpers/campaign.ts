import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Stack } from './stack.js';

/**
 * A recipients list of `count` distinct 19-digit uids (CSV `uid,amount` with its header), written as a stream so
 * a million lines never sit in memory. Amounts cycle through a few exact decimals; the uids are returned in
 * order only when asked (`keep`), for a test to compare against.
 */
export async function writeRecipientsCsv(
  path: string,
  count: number,
  options: { seed?: number; keep?: boolean } = {},
): Promise<{ path: string; uids: string[]; count: number }> {
  const out = createWriteStream(path);
  const uids: string[] = [];
  const base = 1_918_000_000_000_000_000n + BigInt(options.seed ?? 0) * 10_000_000n;
  const amounts = ['1', '8.88', '0.5', '12.34', '100'];
  let buffer = 'uid,amount\n';
  for (let i = 0; i < count; i++) {
    const uid = String(base + BigInt(i));
    if (options.keep) uids.push(uid);
    buffer += `${uid},${amounts[i % amounts.length]}\n`;
    if (buffer.length > 1 << 16) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
  return { path, uids, count };
}

/** The stack's OSS endpoint, as its ready line prints it (any field naming OSS that holds a URL). */
export function ossEndpointOf(stack: Pick<Stack, 'logs'>): string | undefined {
  const ready = stack.logs.find((l) => l.includes('"msg":"ready"'));
  if (!ready) return undefined;
  const fields = JSON.parse(ready) as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    if (/oss/i.test(name) && typeof value === 'string' && /^https?:\/\//.test(value)) return value;
  }
  return undefined;
}
