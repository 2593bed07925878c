import { describe, expect, it } from 'vitest';
import { logFormatOf, prettyLine } from '../../../local/console.js';

describe('LOG_FORMAT=pretty', () => {
  it.each([
    [
      '{"time":"2026-11-30T16:00:01.234Z","level":"info","msg":"answered","RequestId":"promo-1","status":200}',
      '16:00:01.234 INFO  answered  RequestId=promo-1 status=200',
    ],
    [
      '{"time":"2026-11-30T16:00:01.234Z","level":"error","msg":"chunk outcome UNKNOWN","uids":["1918******883"],"Message":"a b"}',
      '16:00:01.234 ERROR chunk outcome UNKNOWN  uids="[\\"1918******883\\"]" Message="a b"',
    ],
    ['not json at all', 'not json at all'],
    ['[1,2]', '[1,2]'],
  ])('renders %s', (line, expected) => {
    expect(prettyLine(line, false)).toBe(expected);
  });

  it('colours the level only on a terminal', () => {
    expect(prettyLine('{"level":"warn","msg":"m"}', true)).toContain('\u001b[33mWARN');
  });

  it.each([
    [undefined, 'json'],
    ['json', 'json'],
    ['pretty', 'pretty'],
  ])('takes LOG_FORMAT=%s', (value, format) => expect(logFormatOf(value)).toBe(format));

  it('refuses another LOG_FORMAT, naming the variable', () => {
    expect(logFormatOf('yaml')).toMatch(/^LOG_FORMAT must be/);
  });
});
