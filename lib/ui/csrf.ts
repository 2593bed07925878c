import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/*
 * The reconcile action changes a record, so a page elsewhere must not be able to make a browser post it. Two
 * checks, both required: the request comes from this page's own origin (Origin, else Referer; a browser sets
 * one of them on every cross-site form post), and it carries the token this server put in the page it posted
 * from, bound to the operation and valid for an hour.
 */
const TOKEN_LIFE_MS = 60 * 60 * 1000;

const sign = (secret: Buffer, purpose: string, issuedAt: number): string =>
  createHmac('sha256', secret).update(`${purpose}\n${issuedAt}`).digest('base64url');

/** A token for a form about `purpose` (for example "reconcile:<key>"), as `<issuedAt>.<signature>`. */
export function formToken(secret: Buffer, purpose: string, now: number): string {
  return `${now}.${sign(secret, purpose, now)}`;
}

/** Why a form post is refused, or undefined when its token is this server's, for this purpose, and fresh. */
export function tokenProblem(secret: Buffer, purpose: string, token: string | undefined, now: number) {
  const match = /^([0-9]{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
  if (!match) return 'the form has no valid token: reload the page and try again';
  const issuedAt = Number(match[1]);
  const expected = Buffer.from(sign(secret, purpose, issuedAt));
  if (!timingSafeEqual(expected, Buffer.from(match[2] ?? '')))
    return 'the form token is not for this operation: reload the page and try again';
  if (now - issuedAt > TOKEN_LIFE_MS || issuedAt > now + 60_000)
    return 'the form token has expired: reload the page and try again';
  return undefined;
}

/** Why a post is not from this page's own origin, or undefined when it is. */
export function originProblem(headers: IncomingHttpHeaders, ownOrigin: string): string | undefined {
  const origin = headers['origin'];
  const referer = headers['referer'];
  let from: string | undefined;
  if (typeof origin === 'string' && origin !== 'null') from = origin;
  else if (typeof referer === 'string') {
    try {
      from = new URL(referer).origin;
    } catch {
      from = undefined;
    }
  }
  if (from === undefined) return 'the request names no origin (Origin or Referer): it is refused';
  return from === ownOrigin ? undefined : `the request comes from ${from}, not from this page: it is refused`;
}
