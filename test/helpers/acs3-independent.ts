import { createHash, createHmac } from 'node:crypto';

/**
 * ACS3 as Alibaba's SDKs in other languages sign it (every header they send), written here from the
 * specification on its own, so the verifier is checked against a signer that shares no code with lib/.
 */
export function signEveryHeader(
  body: string,
  headers: Record<string, string>,
  id: string,
  secret: string,
  target: { method: string; path: string } = { method: 'POST', path: '/' },
): Record<string, string> {
  const hash = createHash('sha256').update(body).digest('hex');
  const all: Record<string, string> = { ...headers, 'x-acs-content-sha256': hash };
  const names = Object.keys(all)
    .map((n) => n.toLowerCase())
    .sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const canonical = [
    target.method,
    target.path,
    '',
    names.map((n) => `${n}:${lower[n]}\n`).join(''),
    names.join(';'),
    hash,
  ].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', secret).update(toSign).digest('hex');
  return {
    ...all,
    Authorization: `ACS3-HMAC-SHA256 Credential=${id},SignedHeaders=${names.join(';')},Signature=${signature}`,
  };
}
