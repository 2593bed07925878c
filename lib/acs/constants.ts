/** Names shared by our signer (lib/), the emulator and the gateway's caller check (local/). */
export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';
export const RESELLERTRADE_API_VERSION = '2019-12-27';

export const ACS_HEADER = {
  action: 'x-acs-action',
  version: 'x-acs-version',
  date: 'x-acs-date',
  nonce: 'x-acs-signature-nonce',
  contentSha256: 'x-acs-content-sha256',
  securityToken: 'x-acs-security-token',
  accessKeyId: 'x-acs-accesskey-id',
  credentialsProvider: 'x-acs-credentials-provider',
  requestId: 'x-acs-request-id',
  retryAfter: 'x-acs-retry-after',
} as const;

/** Headers every ACS3 request must sign, whatever else it signs (docs/local-stack.md, docs/configuration.md). */
export const ACS3_ALWAYS_SIGNED = ['host', ACS_HEADER.date, ACS_HEADER.nonce, ACS_HEADER.contentSha256] as const;

/** How far an `x-acs-date` may be from the receiver's clock, and how long a nonce is remembered. */
export const ACS_MAX_SKEW_MS = 15 * 60 * 1000;
