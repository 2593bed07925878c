/**
 * What no log line may carry (docs/configuration.md): a configured secret (access key secret, security token, a caller's
 * secret, a store password), an Authorization value, or a uid in full. Uids are told apart from other numbers by
 * length: 10 to 19 digits standing alone (coupon ids and times in logs are shorter or stand in known fields).
 */
export interface Leak {
  line: string;
  what: string;
}

const DEFAULT_EMULATOR_SECRET = 'local-emulator-secret-not-for-production';

/** The secrets a stack's environment configures, whatever variable holds them. */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const secrets: string[] = [];
  const add = (v: string | undefined) => {
    if (v && v.length >= 6 && v !== DEFAULT_EMULATOR_SECRET) secrets.push(v);
  };
  add(env['EMULATOR_ACCESS_KEY_SECRET']);
  add(env['EMULATOR_SECURITY_TOKEN']);
  add(env['ALIBABA_CLOUD_ACCESS_KEY_SECRET']);
  add(env['ALIBABA_CLOUD_SECURITY_TOKEN']);
  for (const pair of (env['LOCAL_CALLER_KEYS'] ?? '').split(',')) add(pair.split(':')[1]);
  const store = env['IDEMPOTENCY_STORE'];
  if (store?.includes('@')) {
    try {
      add(decodeURIComponent(new URL(store).password));
    } catch {
      add(store);
    }
  }
  return secrets;
}

/**
 * What holds digits that are not customer uids: the seller's and template's ids (logged on purpose, for
 * reconciliation), coupon ids, request ids, hashes and times; and the Long bound that messages quote.
 */
const NOT_UIDS = new RegExp(
  [
    '"(SellerId|TemplateId|youhuiId|upstreamRequestId|upstreamResponseRequestId|RequestId|requestId|eventId|idempotencyKey|time|at|leaseUntil)":\\s*"?[^",}]*',
    '(SellerId|TemplateId|Bid)=\\d+',
    'seller \\d+',
    '9223372036854775807',
  ].join('|'),
  'g',
);

export function scanLogs(lines: readonly string[], secrets: readonly string[]): Leak[] {
  const leaks: Leak[] = [];
  for (const line of lines) {
    for (const secret of secrets) if (line.includes(secret)) leaks.push({ line, what: 'a configured secret' });
    if (/ACS3-HMAC-SHA256 Credential=/.test(line)) leaks.push({ line, what: 'an Authorization value' });
    const uid = /(?<![\w*])\d{10,19}(?![\w*])/.exec(line.replace(NOT_UIDS, ''));
    if (uid) leaks.push({ line, what: `a full uid (${uid[0]})` });
  }
  return leaks;
}
