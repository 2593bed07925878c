import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ChunkMismatch, readChunk, type ChunkPlan } from '../../../lib/campaigns/chunk.js';
import { ListError, planList, type PlanOptions } from '../../../lib/campaigns/plan.js';

const MAX = 10000;

/** The list as a stream cut into pieces of `piece` bytes, so lines and a BOM straddle buffer boundaries. */
function stream(text: string | Buffer, piece = 7): Readable {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += piece) parts.push(bytes.subarray(i, i + piece));
  return Readable.from(parts);
}

async function plan(text: string | Buffer, options: Partial<PlanOptions> = {}) {
  const chunks: ChunkPlan[] = [];
  const result = await planList(stream(text), {
    maxCouponAmount: MAX,
    onChunk: (c) => void chunks.push(c),
    ...options,
  });
  return { ...result, chunkList: chunks };
}

/** What the chunks hold when each byte range is read again, as `uid=amount`. */
async function reread(text: string | Buffer, options: Partial<PlanOptions> = {}) {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const p = await plan(bytes, options);
  return p.chunkList.flatMap((c) =>
    readChunk(bytes.subarray(c.start, c.end), c, p.format, MAX).map((r) => `${r.uid.digits}=${r.amountText}`),
  );
}

describe('planning a recipients list', () => {
  it.each([
    ['CSV with LF', 'uid,amount\n1918000000883,8.88\n2,100\n', 'csv'],
    ['CSV with CRLF', 'uid,amount\r\n1918000000883,8.88\r\n2,100\r\n', 'csv'],
    ['CSV, last line without newline', 'uid,amount\n1918000000883,8.88\n2,100', 'csv'],
    ['CSV with a UTF-8 BOM', '\ufeffuid,amount\r\n1918000000883,8.88\r\n2,100', 'csv'],
    ['CSV header in capitals with spaces', 'UID , Amount\n1918000000883,8.88\n2,100\n', 'csv'],
    ['CSV with quoted fields', '"uid","amount"\n"1918000000883","8.88"\n 2 ,\t100\n', 'csv'],
    ['JSONL', '{"uid":1918000000883,"amount":8.88}\n{"uid":"2","amount":100}\n', 'jsonl'],
    [
      'JSONL with CRLF, BOM, no last newline',
      '\ufeff{"uid":"1918000000883","amount":8.88}\r\n{"amount":100,"uid":2}',
      'jsonl',
    ],
  ])('%s', async (_name, text, format) => {
    const p = await plan(text);
    expect(p).toMatchObject({ format, total: 2, totalCents: 10888, invalidCount: 0, chunks: 1 });
    expect(await reread(text)).toEqual(['1918000000883=8.88', '2=100']);
  });

  it('skips blank lines (spaces and tabs only) without calling them invalid, and counts them', async () => {
    const p = await plan('uid,amount\n\n1,1\n  \t\n2,2\n\n');
    expect(p).toMatchObject({ total: 2, blankLines: 3, invalidCount: 0, lines: 6 });
  });

  it('counts physical lines: a CSV header is line 1, a final newline ends the last line', async () => {
    const p = await plan('uid,amount\n1,1\nx,1\n');
    expect(p.lines).toBe(3);
    expect(p.invalidLines).toEqual([{ line: 3, problem: expect.stringContaining('uid "x"') }]);
  });

  it.each([
    ['1e2', '100'],
    ['100.0', '100'],
    ['8.80', '8.8'],
    ['0.01', '0.01'],
    ['10000', '10000'],
  ])('accepts the amount %s as a send does, sent as %s', async (amount, sent) => {
    expect(await reread(`uid,amount\n1,${amount}\n`)).toEqual([`1=${sent}`]);
    expect(await reread(`{"uid":1,"amount":${amount}}\n`)).toEqual([`1=${sent}`]);
  });

  it.each([
    ['0.30000000000000004', 'at most 2 decimal places'],
    ['100.000001', 'at most 2 decimal places'],
    ['1e-10', 'at most 2 decimal places'],
    ['0', 'greater than 0'],
    ['-5', 'greater than 0'],
    ['10000.01', 'at most 10000 (MAX_COUPON_AMOUNT)'],
    ['abc', 'decimal number'],
    ['.5', 'decimal number'],
    ['+5', 'decimal number'],
    ['1 000', 'decimal number'],
    ['', 'decimal number'],
    ['00.5', 'decimal number'],
    ['1.', 'decimal number'],
  ])('refuses the CSV amount %j on its line', async (amount, problem) => {
    const p = await plan(`uid,amount\n1,1\n2,${amount}\n3,3\n`);
    expect(p.total).toBe(2);
    expect(p.invalidLines).toEqual([{ line: 3, problem: expect.stringContaining(problem) }]);
  });

  it.each([
    ['"0.30000000000000004"', '0.30000000000000004', 'at most 2 decimal places'],
    ['"1e-10"', '1e-10', 'at most 2 decimal places'],
    ['"a string"', '"5"', 'a JSON number, not a string'],
    ['"0"', '0', 'greater than 0'],
  ])('refuses the JSONL amount %s on its line', async (_name, amount, problem) => {
    const p = await plan(`{"uid":1,"amount":1}\n{"uid":2,"amount":${amount}}\n`);
    expect(p.invalidLines).toEqual([{ line: 2, problem: expect.stringContaining(problem) }]);
  });

  it.each([
    ['a 20-digit uid', '12345678901234567890', 'digits without leading zeros'],
    [
      'a 19-digit uid above the Long range',
      '9223372036854775808',
      "at most 9223372036854775807 (the upstream's 64-bit Long)",
    ],
    ['a leading zero', '007', 'without leading zeros'],
    ['zero', '0', 'without leading zeros'],
    ['a negative uid', '-1', 'without leading zeros'],
    ['a decimal uid', '1.5', 'without leading zeros'],
  ])('refuses %s in CSV', async (_name, uid, problem) => {
    const p = await plan(`uid,amount\n${uid},1\n1,1\n`);
    expect(p.invalidLines).toEqual([{ line: 2, problem: expect.stringContaining(problem) }]);
  });

  it('accepts the largest uid the upstream takes, as its exact digits', async () => {
    expect(await reread('uid,amount\n9223372036854775807,1\n')).toEqual(['9223372036854775807=1']);
    expect(await reread('{"uid":"9223372036854775807","amount":1}\n')).toEqual(['9223372036854775807=1']);
  });

  it.each([
    ['a JSON number above 2^53-1', '{"uid":9007199254740993,"amount":1}', 'cannot be read exactly'],
    ['a 20-digit string', '{"uid":"12345678901234567890","amount":1}', 'must be a positive integer'],
    ['a typo in a property', '{"uid":1,"ammount":1}', 'unknown property "ammount"'],
    ['a missing amount', '{"uid":1}', 'amount is required'],
    ['an array', '[1,1]', 'must be a JSON object'],
    ['broken JSON', '{"uid":1,', 'is not valid JSON'],
    ['a repeated key', '{"uid":1,"uid":2,"amount":1}', 'is not valid JSON'],
  ])('refuses %s in JSONL', async (_name, line, problem) => {
    const p = await plan(`{"uid":5,"amount":1}\n${line}\n`);
    expect(p.invalidLines).toEqual([{ line: 2, problem: expect.stringContaining(problem) }]);
  });

  it('never quotes a full uid, and at most 64 characters of a value', async () => {
    const long = '9'.repeat(300);
    const p = await plan(`uid,amount\n12345678901234567890,1\n1,${long}\n1918000000883,1\n1918000000883,0.001\n`);
    const text = JSON.stringify(p.invalidLines);
    expect(text).not.toContain('12345678901234567890');
    expect(text).not.toContain('1918000000883');
    expect(text).not.toContain('9'.repeat(65));
    expect(p.invalidLines.map((l) => l.line)).toEqual([2, 3, 5]);
  });

  it('refuses a repeated uid on every line after its first, naming the first', async () => {
    const p = await plan('uid,amount\n1,1\n2,2\n1,3\n3,3\n1,1\n');
    expect(p.total).toBe(3);
    expect(p.invalidLines).toEqual([
      { line: 4, problem: 'uid duplicates the uid on line 2' },
      { line: 6, problem: 'uid duplicates the uid on line 2' },
    ]);
    expect(await reread('uid,amount\n1,1\n2,2\n1,3\n3,3\n1,1\n')).toEqual(['1=1', '2=2', '3=3']);
  });

  it('takes the same uid written as a number and as a string for the same uid', async () => {
    const p = await plan('{"uid":12,"amount":1}\n{"uid":"12","amount":1}\n');
    expect(p.invalidLines).toEqual([{ line: 2, problem: 'uid duplicates the uid on line 1' }]);
  });

  it('refuses a line longer than 4096 bytes without holding it', async () => {
    const p = await plan(`uid,amount\n1,1\n2,${'1'.repeat(10_000)}\n3,3\n`);
    expect(p.invalidLines).toEqual([{ line: 3, problem: 'is longer than 4096 bytes' }]);
    expect(p.total).toBe(2);
  });

  it('refuses invalid UTF-8 on its line, and a BOM that is not at the start', async () => {
    const bytes = Buffer.concat([
      Buffer.from('uid,amount\n1,1\n'),
      Buffer.from([0xff, 0x2c, 0x31, 0x0a]),
      Buffer.from('\ufeff2,2\n'),
    ]);
    const p = await plan(bytes);
    expect(p.invalidLines.map((l) => l.line)).toEqual([3, 4]);
    expect(p.invalidLines[0]?.problem).toBe('is not valid UTF-8');
  });

  it.each([
    ['no header', '1,1\n2,2\n'],
    ['another header', 'user,amount\n1,1\n'],
    ['an extra column', 'uid,amount,note\n1,1,x\n'],
    ['columns swapped', 'amount,uid\n1,1\n'],
    ['a blank line before the header', '\nuid,amount\n1,1\n'],
  ])('refuses a CSV list with %s as a whole', async (_name, text) => {
    await expect(plan(text)).rejects.toThrow(ListError);
  });

  it('refuses an empty or blank list as a whole', async () => {
    await expect(plan('')).rejects.toThrow('empty or blank');
    await expect(plan('\n \n')).rejects.toThrow('empty or blank');
  });

  it('plans a list with a header and no recipients as zero recipients', async () => {
    expect(await plan('uid,amount\n')).toMatchObject({ total: 0, chunks: 0 });
  });

  it('reports the first 1,000 invalid lines and counts the rest', async () => {
    const text = `uid,amount\n${Array.from({ length: 1500 }, (_, i) => `${i + 1},0`).join('\n')}\n`;
    const p = await plan(text);
    expect(p.invalidCount).toBe(1500);
    expect(p.invalidLines).toHaveLength(1000);
    expect(p.invalidLines.at(-1)?.line).toBe(1001);
  });

  it('refuses a list with more recipients than allowed as a whole', async () => {
    await expect(plan('uid,amount\n1,1\n2,2\n3,3\n', { maxRecipients: 2 })).rejects.toThrow('more than 2 recipients');
  });

  it('gives the same content hash to the same bytes and another to any other list', async () => {
    const a = await plan('uid,amount\n1,1\n');
    const b = await plan('uid,amount\n1,1\n');
    const c = await plan('uid,amount\n1,2\n');
    expect(a.sha256).toBe(b.sha256);
    expect(a.sha256).not.toBe(c.sha256);
  });
});

describe('chunks', () => {
  const list = `uid,amount\n${Array.from({ length: 25 }, (_, i) => `${i + 1},${i + 1}`).join('\n')}\n`;

  it('cut the valid lines into byte ranges of at most chunkSize recipients, in order, on line boundaries', async () => {
    const p = await plan(list, { chunkSize: 10 });
    expect(p.chunkList.map((c) => [c.n, c.recipients, c.firstLine, c.lastLine])).toEqual([
      [1, 10, 2, 11],
      [2, 10, 12, 21],
      [3, 5, 22, 26],
    ]);
    expect(p.chunkList.map((c) => c.amountCents)).toEqual([5500, 15500, 11500]);
    expect(p.totalCents).toBe(32500);
    for (const c of p.chunkList) expect(list.slice(c.start, c.end).endsWith('\n')).toBe(true);
  });

  it('start at the first valid line after the previous chunk and end at their last valid line', async () => {
    const text = 'uid,amount\nx,1\n1,1\n2,2\ny,1\n3,3\nz,1\n';
    const p = await plan(text, { chunkSize: 2 });
    expect(p.chunkList.map((c) => text.slice(c.start, c.end))).toEqual(['1,1\n2,2\n', '3,3\n']);
  });

  it('span at most maxChunkLines lines, so a long run of invalid lines does not make one huge chunk', async () => {
    const text = `uid,amount\n1,1\n${'x,1\n'.repeat(50)}2,2\n`;
    const p = await plan(text, { chunkSize: 10, maxChunkLines: 20 });
    expect(p.chunkList.map((c) => [c.firstLine, c.lastLine])).toEqual([
      [2, 2],
      [53, 53],
    ]);
  });

  it('name the duplicates inside their range, so a re-read skips them', async () => {
    const text = 'uid,amount\n1,1\n2,2\n3,3\n1,9\n4,4\n';
    const p = await plan(text, { chunkSize: 2 });
    expect(p.chunkList.map((c) => c.skipLines)).toEqual([[], [5]]);
    expect(await reread(text, { chunkSize: 2 })).toEqual(['1=1', '2=2', '3=3', '4=4']);
  });

  it('refuse a re-read when the list changed after planning', async () => {
    const p = await plan(list, { chunkSize: 10 });
    const [first] = p.chunkList;
    if (!first) throw new Error('no chunk');
    const changed = Buffer.from(list.replace('\n3,3\n', '\n3,4\n'));
    const other = Buffer.from(list.replace('\n3,3\n', '\n9,3\n'));
    expect(() => readChunk(changed.subarray(first.start, first.end), first, 'csv', MAX)).toThrow(ChunkMismatch);
    expect(() => readChunk(other.subarray(first.start, first.end), first, 'csv', MAX)).toThrow(ChunkMismatch);
    expect(() => readChunk(Buffer.from(list).subarray(first.start, first.end - 1), first, 'csv', MAX)).toThrow(
      ChunkMismatch,
    );
  });

  it('refuse a re-read when the amount cap was lowered after planning', async () => {
    const p = await plan(list, { chunkSize: 10 });
    const [first] = p.chunkList;
    if (!first) throw new Error('no chunk');
    expect(() => readChunk(Buffer.from(list).subarray(first.start, first.end), first, 'csv', 5)).toThrow(ChunkMismatch);
  });

  it('wait for onChunk before planning further (back-pressure)', async () => {
    const order: string[] = [];
    await planList(stream(list, 4096), {
      maxCouponAmount: MAX,
      chunkSize: 10,
      onChunk: async (c) => {
        order.push(`start ${c.n}`);
        await new Promise((r) => setTimeout(r, 5));
        order.push(`end ${c.n}`);
      },
    });
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });
});
