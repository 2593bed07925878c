import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readChunk, type ChunkPlan } from '../../../lib/campaigns/chunk.js';
import { judgeAsSend, judgeLine } from '../../../lib/campaigns/line-rules.js';
import { planList } from '../../../lib/campaigns/plan.js';
import { parseJsonExact } from '../../../lib/json.js';

const MAX = 10000;

/** Lines whose fate is known by construction: recipients (uids often from a small pool, so repeats happen), lines
 * invalid by one rule or another, blank lines. */

const uid = fc.oneof(
  fc.integer({ min: 1, max: 40 }).map(String),
  fc.bigInt({ min: 1n, max: 9223372036854775807n }).map(String),
);
const cents = fc.integer({ min: 1, max: MAX * 100 });
const valid = fc.record({ kind: fc.constant('valid' as const), uid, cents });
const blank = fc.constantFrom('', ' ', '\t', ' \t ');

const amountText = (c: number, style: number): string => {
  const plain = c % 100 === 0 ? String(c / 100) : (c / 100).toFixed(2).replace(/0$/, '');
  if (style === 1 && c % 100 === 0) return `${c / 100}.00`;
  if (style === 2 && c % 10000 === 0) return `${c / 10000}e2`;
  return plain;
};

const list = fc.record({
  format: fc.constantFrom('csv' as const, 'jsonl' as const),
  specs: fc.array(
    fc.oneof(
      { weight: 6, arbitrary: valid },
      { weight: 2, arbitrary: fc.constant({ kind: 'invalid' as const }) },
      { weight: 1, arbitrary: blank.map((text) => ({ kind: 'blank' as const, text })) },
    ),
    { maxLength: 60 },
  ),
  invalid: fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
  styles: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 60, maxLength: 60 }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  finalNewline: fc.boolean(),
  chunkSize: fc.integer({ min: 1, max: 7 }),
  maxChunkLines: fc.integer({ min: 1, max: 20 }),
  piece: fc.integer({ min: 1, max: 64 }),
});

const INVALID_CSV = [
  'x,1',
  '0,1',
  '007,1',
  '1,0',
  '1,0.001',
  '1,-1',
  '1',
  '1,2,3',
  '12345678901234567890,1',
  '1,1e-10',
];
const INVALID_JSONL = ['{"uid":0,"amount":1}', '{"uid":1}', '[1]', '{', '{"uid":1,"amount":0.001}', '1'];

describe('planning, property', () => {
  it('re-reading every chunk range yields exactly the valid recipients, in list order, each uid once', async () => {
    await fc.assert(
      fc.asyncProperty(list, async (l) => {
        const eol = l.crlf ? '\r\n' : '\n';
        const lines: string[] = l.format === 'csv' ? ['uid,amount'] : [];
        const expected: string[] = [];
        const seen = new Set<string>();
        let expectedCents = 0;
        l.specs.forEach((spec, i) => {
          if (spec.kind === 'blank') return lines.push(spec.text);
          if (spec.kind === 'invalid') {
            const pool = l.format === 'csv' ? INVALID_CSV : INVALID_JSONL;
            return lines.push(pool[(l.invalid[i] ?? 0) % pool.length] ?? 'x');
          }
          const amount = amountText(spec.cents, l.styles[i] ?? 0);
          lines.push(l.format === 'csv' ? `${spec.uid},${amount}` : `{"uid":"${spec.uid}","amount":${amount}}`);
          if (seen.has(spec.uid)) return;
          seen.add(spec.uid);
          expected.push(`${spec.uid}=${(spec.cents / 100).toFixed(2).replace(/\.?0+$/, '')}`);
          expectedCents += spec.cents;
        });
        // JSONL whose first non-blank line is not an object would be read as a CSV without header: keep it JSONL.
        if (l.format === 'jsonl') lines.unshift('{"uid":"999999999999","amount":1}');
        if (l.format === 'jsonl') {
          expected.unshift('999999999999=1');
          expectedCents += 100;
        }
        let text = lines.join(eol);
        if (l.finalNewline) text += eol;
        const bytes = Buffer.concat([l.bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text)]);
        const parts: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += l.piece) parts.push(bytes.subarray(i, i + l.piece));

        const chunks: ChunkPlan[] = [];
        const p = await planList(Readable.from(parts), {
          maxCouponAmount: MAX,
          chunkSize: l.chunkSize,
          maxChunkLines: l.maxChunkLines,
          onChunk: (c) => void chunks.push(c),
        });
        const reread = chunks.flatMap((c) =>
          readChunk(bytes.subarray(c.start, c.end), c, p.format, MAX).map((r) => `${r.uid.digits}=${r.amountText}`),
        );
        expect(reread).toEqual(expected);
        expect(p.total).toBe(expected.length);
        expect(p.totalCents).toBe(expectedCents);
        expect(chunks.reduce((s, c) => s + c.amountCents, 0)).toBe(expectedCents);
        let previousEnd = 0;
        chunks.forEach((c, i) => {
          expect(c.n).toBe(i + 1);
          expect(c.recipients).toBeGreaterThan(0);
          expect(c.recipients).toBeLessThanOrEqual(l.chunkSize);
          expect(c.lastLine - c.firstLine + 1).toBeLessThanOrEqual(l.maxChunkLines);
          expect(c.start).toBeGreaterThanOrEqual(previousEnd);
          previousEnd = c.end;
        });
      }),
      { numRuns: 300 },
    );
  });

  it('a CSV line is accepted exactly when the send rules accept its uid and amount, with the same recipient', () => {
    const field = fc.oneof(
      fc.stringMatching(/^[0-9]{1,20}$/),
      fc.stringMatching(/^-?[0-9]{0,10}(\.[0-9]{0,4})?([eE][+-]?[0-9]{1,2})?$/),
      fc.constantFrom('', '01', '0', '0.0', '00.5', '1.', '.1', '9223372036854775807', '9223372036854775808'),
    );
    fc.assert(
      fc.property(field, field, (u, a) => {
        const line = judgeLine(Buffer.from(`${u},${a}`), 'csv', MAX);
        let amount: unknown;
        try {
          amount = parseJsonExact(a);
        } catch {
          expect(line).toHaveProperty('problem');
          return;
        }
        const send = judgeAsSend({ uid: u, amount }, MAX);
        if ('recipient' in send) expect(line).toEqual(send);
        else expect(line).toHaveProperty('problem');
      }),
      { numRuns: 5000 },
    );
  });
});
