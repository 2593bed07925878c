import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formToken, originProblem, tokenProblem } from '../../../lib/ui/csrf.js';
import { escapeHtml, html } from '../../../lib/ui/html.js';

const decode = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

describe('html', () => {
  it('escapes every interpolated string: no markup can come from a stored value, and the text is kept', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const out = html`<td title="${value}">${value}</td>`.text;
        const inner = out.slice('<td title="'.length, out.length - '</td>'.length);
        const [attr, body] = inner.split('">');
        expect(`${attr}${body}`).not.toMatch(/[<>"']/);
        expect(decode(attr ?? '')).toBe(value);
        expect(decode(body ?? '')).toBe(value);
      }),
    );
  });

  it('nests built fragments as markup, and drops empty parts', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${undefined}${false}${[html`<i>k</i>`, 'x&y']}</p>`.text).toBe(
      '<p><b>&lt;i&gt;</b><i>k</i>x&amp;y</p>',
    );
    expect(escapeHtml(`"'&<>`)).toBe('&quot;&#39;&amp;&lt;&gt;');
  });
});

describe('form tokens', () => {
  const secret = Buffer.alloc(32, 7);
  const now = 1_800_000_000_000;

  it('accepts the token made for this purpose while it is fresh', () => {
    expect(tokenProblem(secret, 'reconcile:a', formToken(secret, 'reconcile:a', now), now + 59 * 60_000)).toBe(
      undefined,
    );
  });

  it.each([
    ['missing', undefined, /no valid token/],
    ['not a token', 'hello', /no valid token/],
    ['for another operation', formToken(secret, 'reconcile:b', now), /not for this operation/],
    ['made with another key', formToken(Buffer.alloc(32, 8), 'reconcile:a', now), /not for this operation/],
    ['tampered time', formToken(secret, 'reconcile:a', now).replace(/^\d/, '2'), /not for this operation/],
    ['expired', formToken(secret, 'reconcile:a', now - 61 * 60_000), /expired/],
    ['from the future', formToken(secret, 'reconcile:a', now + 5 * 60_000), /expired/],
  ])('refuses a token %s', (_, token, problem) => {
    expect(tokenProblem(secret, 'reconcile:a', token, now)).toMatch(problem);
  });

  it('refuses any forged token (property)', () => {
    fc.assert(
      fc.property(fc.string(), (token) => {
        expect(tokenProblem(secret, 'reconcile:a', token, now)).toBeDefined();
      }),
    );
  });
});

describe('same-origin check', () => {
  const own = 'http://127.0.0.1:9000';
  it.each([
    ['its own Origin', { origin: own }, undefined],
    ['no Origin, its own Referer', { referer: `${own}/__ui/operations/x` }, undefined],
    ['another Origin', { origin: 'http://evil.test' }, /comes from http:\/\/evil.test/],
    ['another port', { origin: 'http://127.0.0.1:9001' }, /not from this page/],
    ['Origin null (a sandboxed frame), no Referer', { origin: 'null' }, /names no origin/],
    ['neither header', {}, /names no origin/],
    ['a Referer that is not a URL', { referer: 'not a url' }, /names no origin/],
    ['another site in Referer', { referer: 'https://evil.test/x' }, /not from this page/],
  ])('%s', (_, headers, problem) => {
    const result = originProblem(headers, own);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(problem);
  });
});
