import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readChunk, type ChunkPlan } from '../../../lib/campaigns/chunk.js';
import { judgeAsSend, judgeLine } from '../../../lib/campaigns/line-rules.js';
import { planList } from '../../../lib/campaigns/plan.js';
import { emptyPlainLine, readPlainCsv, readPlainJsonl } from '../../../lib/campaigns/plain-lines.js';
import { toCents } from '../../../lib/guardrails/cents.js';
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

  it('a plain CSV line read from its bytes is the recipient the general path reads, its plain bytes included', () => {
    const amount = fc.oneof(
      fc.stringMatching(/^(0|[1-9][0-9]{0,9})(\.[0-9]{1,3})?$/),
      fc.constantFrom('0', '0.0', '0.00', '0.01', '10000', '10000.00', '10000.01', '9999.99', '8.80', '8.8'),
    );
    const uidText = fc.oneof(fc.stringMatching(/^[1-9][0-9]{0,19}$/), fc.constantFrom('0', '01'));
    const out = emptyPlainLine();
    fc.assert(
      fc.property(uidText, amount, (u, a) => {
        const bytes = Buffer.from(`${u},${a}`);
        if (!readPlainCsv(bytes, MAX, out)) return;
        const general = judgeAsSend({ uid: u, amount: parseJsonExact(a) }, MAX);
        if (!('recipient' in general)) throw new Error(`the plain path accepted ${u},${a}`);
        expect(toCents(general.recipient.amount)).toBe(out.cents);
        expect(general.recipient.amount).toBe(out.amount);
        expect(bytes.toString('latin1', 0, out.uidEnd)).toBe(general.recipient.uid.digits);
        expect(bytes.toString('latin1', out.amountStart, out.amountEnd)).toBe(general.recipient.amountText);
      }),
      { numRuns: 5000 },
    );
  });

  it('a plain JSONL line read from its bytes is the recipient the general path reads', () => {
    const space = fc.constantFrom('', ' ', '\t', '  ', '\r');
    const uidValue = fc.oneof(
      fc.stringMatching(/^[1-9][0-9]{0,19}$/).map((d) => `"${d}"`),
      fc.stringMatching(/^[0-9]{1,17}$/),
      fc.constantFrom('"9223372036854775807"', '"9223372036854775808"', '9007199254740991', '9007199254740992'),
      fc.constantFrom('"007"', '12.0', '1e2', '-1', '"1 "', 'true', '"\\u0031"'),
    );
    const amountValue = fc.oneof(
      fc.stringMatching(/^(0|[1-9][0-9]{0,9})(\.[0-9]{1,3})?$/),
      fc.constantFrom('1e2', '8.88e0', '-1', '"5"', '0.30000000000000004', '10000.00', '.5', '5.', 'null'),
    );
    const line = fc
      .tuple(uidValue, amountValue, fc.boolean(), fc.array(space, { minLength: 8, maxLength: 8 }), fc.boolean())
      .map(([u, a, uidFirst, ws, extra]) => {
        const [s0, s1, s2, s3, s4, s5, s6, s7] = ws;
        const members = uidFirst
          ? [`"uid"${s1}:${s2}${u}`, `"amount"${s3}:${s4}${a}`]
          : [`"amount"${s1}:${s2}${a}`, `"uid"${s3}:${s4}${u}`];
        if (extra) members.push('"x":1');
        return `${s0}{${members.join(`${s5},${s6}`)}}${s7}`;
      });
    const out = emptyPlainLine();
    fc.assert(
      fc.property(line, (text) => {
        const bytes = Buffer.from(text);
        if (!readPlainJsonl(bytes, MAX, out)) return;
        const general = judgeAsSend(parseJsonExact(text), MAX);
        if (!('recipient' in general)) throw new Error(`the plain path accepted ${text}`);
        expect(out.cents).toBe(toCents(general.recipient.amount));
        expect(out.amount).toBe(general.recipient.amount);
        expect(bytes.toString('latin1', out.uidStart, out.uidEnd)).toBe(general.recipient.uid.digits);
        expect(bytes.toString('latin1', out.amountStart, out.amountEnd)).toBe(general.recipient.amountText);
        expect(judgeLine(bytes, 'jsonl', MAX)).toEqual(general);
      }),
      { numRuns: 5000 },
    );
  });
});
