import { describe, expect, it } from 'vitest';
import { ACS3_ALWAYS_SIGNED } from '../../../lib/acs/constants.js';
import { percentEncode } from '../../../lib/acs/encode.js';
import { sha256Hex } from '../../../lib/sha256.js';
import { signV3 } from '../../../lib/acs/v3.js';
import { signV1, stringToSignV1, verifyV1 } from '../../../local/auth/v1.js';
import { verifyV3 } from '../../../local/auth/verify-v3.js';
import { signEveryHeader } from '../../helpers/acs3-independent.js';
import { v1Vectors, v3Vectors } from '../../fixtures/signing-vectors.js';

describe('percentEncode', () => {
  it('encodes as RFC 3986 with uppercase hex', () => {
    expect(percentEncode("a b*c!d'e(f)g~h中")).toBe('a%20b%2Ac%21d%27e%28f%29g~h%E4%B8%AD');
  });
});

describe('V1 HMAC-SHA1 vectors', () => {
  for (const v of v1Vectors) {
    it(v.name, () => {
      if (v.stringToSign) expect(stringToSignV1(v.method, v.params)).toBe(v.stringToSign);
      expect(signV1(v.method, v.params, v.secret)).toBe(v.signature);
      const lookup = (id: string) => (id === v.params['AccessKeyId'] ? v.secret : undefined);
      if (v.params['AccessKeyId'] && v.params['SignatureMethod']) {
        expect(verifyV1(v.method, { ...v.params, Signature: v.signature }, lookup)).toMatchObject({ ok: true });
        expect(verifyV1(v.method, { ...v.params, Signature: v.signature }, () => 'wrong')).toMatchObject({
          ok: false,
          code: 'SignatureDoesNotMatch',
        });
        expect(
          verifyV1(v.method, { ...v.params, RequestId: 'tampered', Signature: v.signature }, lookup),
        ).toMatchObject({ ok: false });
      }
    });
  }
});

describe('V3 ACS3-HMAC-SHA256 vectors', () => {
  for (const v of v3Vectors) {
    it(v.name, () => {
      if (v.body) expect(sha256Hex(v.body)).toBe(v.request.hashedPayload);
      const signed = signV3(v.request, v.accessKeyId, v.secret);
      if (v.hashedCanonicalRequest) {
        expect(sha256Hex(signed.canonicalRequest)).toBe(v.hashedCanonicalRequest);
      }
      expect(signed.authorization).toBe(v.authorization);
    });
  }

  it('signs a name given in two cases once, its trimmed values sorted and joined; headers sorted by name', () => {
    const signed = signV3(
      {
        method: 'POST',
        pathname: '/',
        query: {},
        headers: { 'X-Acs-Zed': ' z ', 'x-acs-b': 'b2', 'X-ACS-B': 'b1', host: 'h', accept: 'not signed' },
        hashedPayload: 'p',
      },
      'id',
      'secret',
    );
    expect(signed.signedHeaders).toBe('host;x-acs-b;x-acs-zed');
    expect(signed.canonicalRequest).toBe('POST\n/\n\nhost:h\nx-acs-b:b1,b2\nx-acs-zed:z\n\nhost;x-acs-b;x-acs-zed\np');
  });

  it('verifies what it signs and rejects a changed body, header or secret', () => {
    const v = v3Vectors.find((x) => x.name.startsWith('V3-C'))!;
    const body = Buffer.from(v.body!);
    const headers = { ...v.request.headers, Authorization: v.authorization };
    const lookup = (id: string) => (id === v.accessKeyId ? v.secret : undefined);
    const req = { method: 'POST', pathname: '/', query: {}, headers, body };
    expect(verifyV3(req, lookup, ACS3_ALWAYS_SIGNED)).toMatchObject({ ok: true, accessKeyId: v.accessKeyId });
    expect(verifyV3({ ...req, body: Buffer.from(`${v.body}0`) }, lookup, ACS3_ALWAYS_SIGNED)).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
    expect(
      verifyV3({ ...req, headers: { ...headers, 'x-acs-date': '2024-01-01T00:00:01Z' } }, lookup, ACS3_ALWAYS_SIGNED),
    ).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
    expect(verifyV3(req, () => 'not-the-secret', ACS3_ALWAYS_SIGNED)).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
    expect(verifyV3(req, () => undefined, ACS3_ALWAYS_SIGNED)).toMatchObject({
      ok: false,
      code: 'InvalidAccessKeyId.NotFound',
    });
    const { Authorization: _omit, ...unsigned } = headers;
    expect(verifyV3({ ...req, headers: unsigned }, lookup, ACS3_ALWAYS_SIGNED)).toMatchObject({
      ok: false,
      code: 'IncompleteSignature',
    });
  });
});

describe("verifying over the caller's SignedHeaders", () => {
  const body = 'SellerId=1&TemplateId=2';
  const base = {
    host: 'resellertrade.aliyuncs.com',
    accept: 'application/json',
    'user-agent': 'AlibabaCloud (Linux; x86_64) Python/3.11 Core/1.0 TeaDSL/2',
    'content-type': 'application/x-www-form-urlencoded',
    'x-acs-action': 'SendCoupon',
    'x-acs-version': '2019-12-27',
    'x-acs-date': '2026-11-29T10:00:00Z',
    'x-acs-signature-nonce': 'n-1',
  };
  const lookup = (id: string) => (id === 'AK' ? 'secret' : undefined);
  const request = (headers: Record<string, string>) => ({
    method: 'POST',
    pathname: '/',
    query: {},
    headers,
    body: Buffer.from(body),
  });

  it('accepts a request signed over every header it sends (as the Python SDK does)', () => {
    expect(verifyV3(request(signEveryHeader(body, base, 'AK', 'secret')), lookup, ACS3_ALWAYS_SIGNED)).toMatchObject({
      ok: true,
      signedHeaders: expect.arrayContaining(['accept', 'user-agent']),
    });
  });

  it('refuses one whose signed header was changed on the way', () => {
    const signed = signEveryHeader(body, base, 'AK', 'secret');
    expect(verifyV3(request({ ...signed, accept: 'text/plain' }), lookup, ACS3_ALWAYS_SIGNED)).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
  });

  it.each(['host', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'])(
    'refuses one whose SignedHeaders omits %s',
    (name) => {
      const { [name]: _dropped, ...rest } = base as Record<string, string>;
      const signed = signEveryHeader(body, rest, 'AK', 'secret');
      // The header is still sent, just not signed.
      const sent =
        name === 'x-acs-content-sha256' ? signed : { ...signed, [name]: (base as Record<string, string>)[name] ?? '' };
      if (name === 'x-acs-content-sha256') {
        const auth = (signed['Authorization'] ?? '').replace('x-acs-content-sha256;', '');
        expect(verifyV3(request({ ...signed, Authorization: auth }), lookup, ACS3_ALWAYS_SIGNED)).toMatchObject({
          ok: false,
          code: 'IncompleteSignature',
        });
        return;
      }
      expect(verifyV3(request(sent), lookup, ACS3_ALWAYS_SIGNED)).toMatchObject({
        ok: false,
        code: 'IncompleteSignature',
      });
    },
  );

  it('refuses one that lists a header it does not send', () => {
    const signed = signEveryHeader(body, { ...base, 'x-extra': '1' }, 'AK', 'secret');
    const { 'x-extra': _gone, ...sent } = signed;
    expect(verifyV3(request(sent), lookup, ACS3_ALWAYS_SIGNED)).toMatchObject({
      ok: false,
      code: 'IncompleteSignature',
    });
  });
});
