/**
 * `npm run reconcile -- --seller ID --template ID --uid UID [--uid UID …]`: asks ResellerTrade (GetCouponPage)
 * which coupons these uids hold under a template. This is how an operator settles recipients reported UNKNOWN
 * before deciding to send them again. Credentials and endpoint come from ALIBABA_CLOUD_ACCESS_KEY_ID,
 * ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN and RESELLERTRADE_ENDPOINT.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_ENDPOINT } from '../lib/config.js';
import { createResellerTradeClient, type Credentials } from '../lib/resellertrade/client.js';
import { getCouponPage, type IssuedCoupon } from '../lib/resellertrade/coupon-page.js';
import { createHttpTransport } from '../lib/resellertrade/transport.js';
import type { Env } from '../lib/config.js';

export async function reconcile(argv: string[], env: Env): Promise<{ code: number; output: string }> {
  const { values } = parseArgs({
    args: argv,
    options: { seller: { type: 'string' }, template: { type: 'string' }, uid: { type: 'string', multiple: true } },
    strict: true,
  });
  const problems: string[] = [];
  if (!values.seller || !/^\d{1,20}$/.test(values.seller)) problems.push('--seller must be the seller UID (digits)');
  if (values.template !== undefined && !/^\d{1,20}$/.test(values.template)) problems.push('--template must be digits');
  const uids = values.uid ?? [];
  if (uids.length === 0 || uids.some((u) => !/^\d{1,20}$/.test(u)))
    problems.push('--uid must be given at least once, as digits');
  const id = env['ALIBABA_CLOUD_ACCESS_KEY_ID'];
  const secret = env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'];
  if (!id || !secret) problems.push('ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET must be set');
  if (problems.length > 0 || !values.seller || !id || !secret) return { code: 2, output: `${problems.join('\n')}\n` };
  const token = env['ALIBABA_CLOUD_SECURITY_TOKEN'];
  const credentials: Credentials = {
    accessKeyId: id,
    accessKeySecret: secret,
    ...(token ? { securityToken: token } : {}),
  };
  const client = createResellerTradeClient(
    new URL(env['RESELLERTRADE_ENDPOINT'] || DEFAULT_ENDPOINT),
    createHttpTransport(),
  );
  const coupons: IssuedCoupon[] = [];
  for (let pageNo = 1; ; pageNo++) {
    const page = await getCouponPage(
      client,
      {
        sellerId: values.seller,
        ...(values.template ? { templateId: values.template } : {}),
        uids,
        pageNo,
        pageSize: 100,
      },
      credentials,
      10_000,
    );
    if (!page.ok) return { code: 1, output: `GetCouponPage failed: ${page.outcome.code}: ${page.outcome.message}\n` };
    coupons.push(...page.coupons);
    if (page.coupons.length < 100 || coupons.length >= page.total) break;
  }
  const lines = uids.map((uid) => {
    const held = coupons.filter((c) => c.uid === uid);
    return held.length === 0
      ? `${uid}\tno coupon`
      : `${uid}\t${held.map((c) => `youhuiId ${c.youhuiId}${c.amount === undefined ? '' : ` amount ${c.amount}`}`).join(', ')}`;
  });
  return { code: 0, output: `${lines.join('\n')}\n` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  reconcile(process.argv.slice(2), process.env)
    .then(({ code, output }) => {
      (code === 0 ? process.stdout : process.stderr).write(output);
      process.exit(code);
    })
    .catch((err: unknown) => {
      process.stderr.write(`reconcile failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
