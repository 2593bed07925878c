import { describe, expect, it } from 'vitest';
import { describe as describeFailure, transportError } from '../../../lib/http/failure.js';

const errno = (code: string, message: string, syscall?: string) =>
  Object.assign(new Error(message), { code, ...(syscall ? { syscall } : {}) });

describe('failures in our words', () => {
  it.each<[Error, string, string]>([
    [errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9', 'connect'), 'ECONNREFUSED', 'refused'],
    [errno('ECONNRESET', 'read ECONNRESET', 'read'), 'ECONNRESET', 'reset'],
    [errno('ECONNRESET', 'socket hang up'), 'ConnectionClosed', 'closed without an answer'],
    [errno('ENOTFOUND', 'getaddrinfo ENOTFOUND resellertrade.aliyuncs.com', 'getaddrinfo'), 'ENOTFOUND', 'resolved'],
    [
      errno('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
      'CertificateRejected',
      'certificate',
    ],
    [
      errno('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      'CertificateRejected',
      'certificate',
    ],
    [
      errno('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
      'CertificateRejected',
      'certificate',
    ],
    [
      errno(
        'ERR_SSL_WRONG_VERSION_NUMBER',
        'C0D7A1E1E57F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:355:',
      ),
      'TlsFailure',
      'TLS handshake',
    ],
    [errno('HPE_HEADER_OVERFLOW', 'Header overflow'), 'ResponseTooLarge', '64 KiB'],
    [errno('HPE_INVALID_HEADER_TOKEN', 'Parse Error: Invalid header value char'), 'BadResponse', 'not well-formed'],
    [new Error('something new in a later Node'), 'NetworkError', 'failed'],
  ])('%s → %s', (err, code, words) => {
    const mapped = describeFailure(err);
    expect(mapped.code).toBe(code);
    expect(mapped.message).toContain(words);
    // Nothing of the library's text: no path, no OpenSSL words, no addresses.
    expect(mapped.message).not.toMatch(/\/|\.c:|routines|ssl3|hang up|127\.0|aliyuncs|getaddrinfo/);
  });

  it('keeps the raw text apart, for the logs', () => {
    const err = transportError(false, errno('ERR_SSL_WRONG_VERSION_NUMBER', 'ssl3_record.c:355: wrong version'));
    expect(err).toMatchObject({ written: false, code: 'TlsFailure', detail: 'ssl3_record.c:355: wrong version' });
    expect(err.message).toBe('the TLS handshake with the upstream failed');
  });
});
