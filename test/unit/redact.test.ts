import { describe, expect, it } from 'vitest';
import { maskDigitRuns, maskUid, quote } from '../../lib/redact.js';

describe('redaction', () => {
  it.each([
    ['1918000000883', '1918******883'],
    ['9223372036854775807', '9223************807'],
    ['12345', '*****'],
  ])('masks uid %s as %s, as the documentation prints uids', (uid, masked) => {
    expect(maskUid(uid)).toBe(masked);
  });

  it('masks every long digit run in free text', () => {
    expect(maskDigitRuns('uid 1918000000883 and template 295873')).toBe('uid 1918******883 and template 295873');
  });

  it.each([
    ['short', 'short'],
    ['x'.repeat(64), 'x'.repeat(64)],
    ['x'.repeat(65), `${'x'.repeat(64)}…`],
    ['😀'.repeat(70), `${'😀'.repeat(64)}…`],
  ])('quotes at most 64 characters', (value, quoted) => {
    expect(quote(value)).toBe(quoted);
  });
});
