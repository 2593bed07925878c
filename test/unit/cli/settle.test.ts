import { describe, expect, it } from 'vitest';
import { attribute, lastAttemptAt, settledAfter } from '../../../cli/settle.js';
import { inline, terminalSafe } from '../../../cli/terminal.js';
import { exitForStatuses } from '../../../cli/exit.js';

describe('the attribution rule', () => {
  it.each([
    ['nothing found', [], [], 1, { outcome: 'never-issued' }],
    ['only coupons others account for', ['5'], ['5'], 1, { outcome: 'never-issued' }],
    ['one left for one owner', ['5', '6'], ['5'], 1, { outcome: 'attributed', youhuiId: '6' }],
    ['two left for two owners', ['6', '5'], [], 2, { outcome: 'attributed', youhuiId: '5' }],
    ['the same id twice is one coupon', ['6', '6'], [], 1, { outcome: 'attributed', youhuiId: '6' }],
    ['two left for one owner', ['5', '6'], [], 1, { outcome: 'ambiguous' }],
    ['one left for two owners', ['5'], [], 2, { outcome: 'ambiguous' }],
  ])('%s', (_name, found, taken, owners, expected) => {
    expect(attribute(found, new Set(taken), owners)).toMatchObject(expected);
  });
});

describe('the settle window', () => {
  const chunk = (state: 'UNKNOWN' | 'SENDING', at: number) => ({ state, upstreamRequestId: 'u', at });
  it('starts from the outcome written, or for a chunk left SENDING from the end of its lease', () => {
    expect(lastAttemptAt(chunk('UNKNOWN', 1000), 9000)).toBe(1000);
    expect(lastAttemptAt(chunk('SENDING', 1000), 9000)).toBe(9000);
    expect(lastAttemptAt(chunk('SENDING', 1000), 0)).toBe(1000);
  });
  it('ends after the upstream timeout plus the window', () => {
    expect(settledAfter(1000, 10_000, 300_000)).toBe(311_000);
  });
});

describe('exit status', () => {
  it.each([
    [['SENT', 'SENT'], 0],
    [['DRY_RUN'], 0],
    [['SENT', 'FAILED'], 1],
    [[], 1],
    [['FAILED', 'UNKNOWN'], 3],
    [['SENT', 'UNKNOWN'], 3],
  ])('%j → %i', (statuses, code) => expect(exitForStatuses(statuses)).toBe(code));
});

describe('terminal output', () => {
  it('escapes every control character but newline and tab, and bidi controls', () => {
    expect(terminalSafe('a\u001b[31mb\nc\td\u009b\u202e\r\u007f')).toBe(
      'a\\u001b[31mb\nc\td\\u009b\\u202e\\u000d\\u007f',
    );
  });
  it('escapes newline and tab too inside one value', () => {
    expect(inline('a\nb\tc')).toBe('a\\u000ab\\u0009c');
  });
  it('keeps a JSON document valid and its strings unchanged', () => {
    const text = JSON.stringify({ s: 'x\u009by\u202ez' });
    expect(JSON.parse(terminalSafe(text))).toEqual({ s: 'x\u009by\u202ez' });
  });
});
