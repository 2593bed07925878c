import { describe, expect, it } from 'vitest';
import { signV1, stringToSignV1, verifyV1 } from '../../lib/acs/v1.js';
import { sha256Hex, signV3, verifyV3 } from '../../lib/acs/v3.js';
import { percentEncode } from '../../lib/acs/encode.js';
import { v1Vectors, v3Vectors } from '../fixtures/signing-vectors.js';

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

  it('verifies what it signs and rejects a changed body, header or secret', () => {
    const v = v3Vectors.find((x) => x.name.startsWith('V3-C'))!;
    const body = Buffer.from(v.body!);
    const headers = { ...v.request.headers, Authorization: v.authorization };
    const lookup = (id: string) => (id === v.accessKeyId ? v.secret : undefined);
    const req = { method: 'POST', pathname: '/', query: {}, headers, body };
    expect(verifyV3(req, lookup)).toEqual({ ok: true, accessKeyId: v.accessKeyId });
    expect(verifyV3({ ...req, body: Buffer.from(`${v.body}0`) }, lookup)).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
    expect(verifyV3({ ...req, headers: { ...headers, 'x-acs-date': '2024-01-01T00:00:01Z' } }, lookup)).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch',
    });
    expect(verifyV3(req, () => 'not-the-secret')).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(verifyV3(req, () => undefined)).toMatchObject({ ok: false, code: 'InvalidAccessKeyId.NotFound' });
    const { Authorization: _omit, ...unsigned } = headers;
    expect(verifyV3({ ...req, headers: unsigned }, lookup)).toMatchObject({ ok: false, code: 'IncompleteSignature' });
  });
});
