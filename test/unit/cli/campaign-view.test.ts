import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  duration,
  etaText,
  exitForProgress,
  progressBar,
  progressJson,
  readProgress,
  readResultLine,
  resultJson,
  resultsTable,
  statusLine,
  statusText,
  type Progress,
} from '../../../cli/campaign-view.js';
import { EXIT } from '../../../cli/exit.js';
import { processIo } from '../../../cli/io.js';

const progress = (over: Partial<Progress> = {}): Progress => ({
  campaignId: 'launch-1',
  state: 'RUNNING',
  total: 20_000,
  planned: 20_000,
  sent: 12_000,
  failed: 0,
  unknown: 0,
  pending: 8_000,
  ...over,
});

describe('the campaign progress answer', () => {
  it('is read field by field, and --json prints exactly the contract fields in order', () => {
    const answer = { ...progress(), startedAt: '2026-11-30T10:00:00Z', eta: 20, extra: 'ignored', Bucket: 'b' };
    const read = readProgress(answer);
    expect(read).toMatchObject({ ...progress(), startedAt: '2026-11-30T10:00:00Z', eta: 20 });
    expect(progressJson(read as Progress)).toBe(
      '{"campaignId":"launch-1","state":"RUNNING","total":20000,"planned":20000,"sent":12000,"failed":0,"unknown":0,"pending":8000}',
    );
  });

  it.each([
    [null, /not a JSON object/],
    [[], /not a JSON object/],
    [{ ...progress(), campaignId: 7 }, /campaignId/],
    [{ ...progress(), state: 'DONE' }, /state is not one of/],
    [{ ...progress(), sent: -1 }, /sent is not a whole number/],
    [{ ...progress(), total: '20000' }, /total is not a whole number/],
    [{ ...progress(), pending: 1.5 }, /pending is not a whole number/],
    [{ campaignId: 'x', state: 'RUNNING' }, /total is not/],
  ])('names what is wrong with %j', (value, problem) => {
    const read = readProgress(value);
    expect('problem' in read && read.problem).toMatch(problem);
  });

  it('keeps only well-formed invalid lines', () => {
    const read = readProgress({
      ...progress(),
      invalidLines: [{ line: 3, problem: 'uid is bad' }, { line: 'x' }, 7, { line: 9, problem: 'amount' }],
    }) as Progress;
    expect(read.invalidLines).toEqual([
      { line: 3, problem: 'uid is bad' },
      { line: 9, problem: 'amount' },
    ]);
  });
});

describe('the exit status of a campaign', () => {
  it.each([
    ['COMPLETED, every recipient SENT', { state: 'COMPLETED', sent: 20_000, pending: 0 }, EXIT.ok],
    ['COMPLETED with FAILED', { state: 'COMPLETED', sent: 19_990, failed: 10, pending: 0 }, EXIT.failed],
    ['COMPLETED with UNKNOWN', { state: 'COMPLETED', sent: 19_990, unknown: 10, pending: 0 }, EXIT.unknown],
    ['UNKNOWN outranks FAILED', { state: 'COMPLETED', sent: 0, failed: 1, unknown: 1, pending: 19_998 }, EXIT.unknown],
    ['still RUNNING', {}, EXIT.unknown],
    ['PLANNING', { state: 'PLANNING', total: 0, planned: 0, sent: 0, pending: 0 }, EXIT.unknown],
    ['PAUSED', { state: 'PAUSED' }, EXIT.unknown],
    ['CANCELLED with recipients left unsent', { state: 'CANCELLED' }, EXIT.failed],
    ['CANCELLED after everything was sent', { state: 'CANCELLED', sent: 20_000, pending: 0 }, EXIT.ok],
  ] as const)('%s', (_, over, code) => {
    expect(exitForProgress(progress(over))).toBe(code);
  });
});

describe('what people see', () => {
  it.each([
    [0, '0s'],
    [59.6, '1m00s'],
    [200, '3m20s'],
    [3723, '1h02m03s'],
  ])('a duration of %s s reads %s', (s, text) => {
    expect(duration(s)).toBe(text);
  });

  it.each([
    [200, '3m20s'],
    ['2026-11-30T10:03:20.000Z', '3m20s'],
    ['soon', 'soon'],
  ])('an ETA of %j reads %s', (eta, text) => {
    expect(etaText(eta, Date.parse('2026-11-30T10:00:00.000Z'))).toBe(text);
  });

  it('one status line with every count and the ETA while it runs', () => {
    expect(statusLine(progress({ eta: 200 }))).toBe(
      'launch-1: RUNNING, 12,000 of 20,000 done (sent 12,000, failed 0, unknown 0, pending 8,000; planned 20,000), ETA 3m20s',
    );
    expect(statusLine(progress({ state: 'COMPLETED', sent: 20_000, pending: 0, eta: 0 }))).not.toMatch(/ETA/);
  });

  it('the status names the start and the invalid lines; nothing in it controls the terminal', () => {
    const text = statusText(
      progress({
        campaignId: 'c1',
        startedAt: 1_764_496_800_000,
        invalidLines: [{ line: 4, problem: 'uid "\u001b[2J" is bad' }],
      }),
    );
    expect(text).toContain('started 2025-11-30T10:00:00.000Z');
    expect(text).toContain('  line 4: uid "\\u001b[2J" is bad');
    expect(text).not.toContain('\u001b');
  });

  it.each([
    ['running: never full before the end', progress({ sent: 20_000, pending: 0 }), 19_999, 20_000],
    ['completed: full', progress({ state: 'COMPLETED', sent: 20_000, pending: 0 }), 20_000, 20_000],
    ['planning without a total yet', progress({ state: 'PLANNING', total: 0, sent: 0, pending: 0 }), 0, 1],
  ])('the progress bar, %s', (_, p, done, total) => {
    const bar = progressBar(p);
    expect([bar.done, bar.total]).toEqual([done, total]);
    expect(bar.label).toContain('launch-1');
  });

  it('the bar is drawn in place on a terminal, and cleared by the final status', () => {
    const written: string[] = [];
    const err = { isTTY: true, write: (t: string) => written.push(t) > 0 } as unknown as NodeJS.WriteStream;
    const out = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
    const io = processIo(out, err);
    const bar = progressBar(progress({ failed: 5, unknown: 2, eta: 61 }));
    io.progress?.(bar.done, bar.total, bar.label);
    expect(written.at(-1)).toBe(
      '\r\u001b[2K[##############..........] 12007/20000 launch-1 RUNNING (5 failed, 2 unknown, ETA 1m01s)',
    );
    io.out('final');
    expect(written.at(-1)).toBe('\r\u001b[2K');
  });
});

describe('results files', () => {
  it.each([
    ['{"uid":"1918000000000000883","amount":"8.88","status":"SENT","youhuiId":"90071992547409931"}', 'SENT'],
    ['{"uid":"1918000000000000884","amount":"5","status":"FAILED","code":"InvalidTemplate","message":"no"}', 'FAILED'],
    ['{"uid":"1918000000000000885","amount":"100.5","status":"UNKNOWN"}', 'UNKNOWN'],
  ])('reads %s', (line, status) => {
    expect(readResultLine(line, 'c1:1')).toMatchObject({ requestId: 'c1:1', status });
  });

  it.each([
    ['not json', /not JSON/],
    ['[1]', /not a JSON object/],
    ['{"uid":1918000000000000883,"amount":"1","status":"SENT"}', /uid is not a string/],
    ['{"uid":"0883","amount":"1","status":"SENT"}', /uid is not a string/],
    ['{"uid":"1","amount":"1.234","status":"SENT"}', /amount/],
    ['{"uid":"1","amount":"1","status":"DRY_RUN"}', /status/],
  ])('refuses %s', (line, problem) => {
    const r = readResultLine(line, 'c1:1');
    expect('problem' in r && r.problem).toMatch(problem);
  });

  it('never crashes on any line', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (line) => {
        const r = readResultLine(line, 'c1:1');
        expect(typeof r).toBe('object');
      }),
    );
  });

  it('a table row per recipient, in fixed columns; an UNKNOWN row names its reconcile command', () => {
    const t = resultsTable('launch-1', 20);
    const sent = readResultLine(
      '{"uid":"1918000000000000883","amount":"8.88","status":"SENT","youhuiId":"90071992547409931"}',
      'launch-1:3',
    );
    const unknown = readResultLine('{"uid":"1918000000000000884","amount":"5","status":"UNKNOWN"}', 'launch-1:20');
    if ('problem' in sent || 'problem' in unknown) throw new Error('unreadable');
    const lines = [t.header, t.row(sent, '1918******883', 3), t.row(unknown, '1918******884', 20)].join('\n');
    expect(lines).toBe(
      [
        'RequestId    uid                  amount      status   youhuiId              Code                      next',
        '-----------  -------------------  ----------  -------  --------------------  ------------------------  ----',
        'launch-1:3   1918******883        8.88        SENT     90071992547409931',
        'launch-1:20  1918******884        5           UNKNOWN                                                  coupon reconcile --request-id launch-1:20',
      ].join('\n'),
    );
  });

  it('a JSONL line per recipient, the uid as shown, the reconcile command when UNKNOWN', () => {
    const r = readResultLine('{"uid":"1918000000000000884","amount":"5","status":"UNKNOWN"}', 'c1:2');
    if ('problem' in r) throw new Error('unreadable');
    expect(JSON.parse(resultJson(r, '1918******884', 'c1', 2))).toEqual({
      requestId: 'c1:2',
      uid: '1918******884',
      amount: '5',
      status: 'UNKNOWN',
      reconcile: 'coupon reconcile --request-id c1:2',
    });
  });
});
