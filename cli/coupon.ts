/**
 * `coupon`: send coupons, look up an operation, settle UNKNOWN recipients (CONTRACT §9). Runs against the
 * local stack by default; `--url`, `--function` and `--store` point it at a deployment.
 */
import { parseArgs } from 'node:util';
import type { Env } from '../lib/config.js';
import { EXIT, type Output } from './print.js';
import { reconcile } from './reconcile.js';
import { send } from './send.js';
import { status } from './status.js';
import { UsageError } from './target.js';

const COMMON = {
  json: { type: 'boolean' },
  'show-uids': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
const OPERATION = {
  'request-id': { type: 'string' },
  seller: { type: 'string' },
  'from-app': { type: 'string' },
} as const;
const TARGET = {
  url: { type: 'string' },
  function: { type: 'string' },
  region: { type: 'string' },
  'account-id': { type: 'string' },
  'fc-endpoint': { type: 'string' },
  async: { type: 'boolean' },
} as const;

const TARGET_HELP = `Where it goes (default: the local stack at http://127.0.0.1:$PORT, port 9000, signed with the first
LOCAL_CALLER_KEYS key when that is set):
  --url URL                 a deployed HTTP trigger, signed with ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET
  --function NAME           FC 3.0 InvokeFunction of a deployed function (needs --region and --account-id,
                            or ALIBABA_CLOUD_ACCOUNT_ID; --fc-endpoint URL overrides the endpoint)
  --async                   with --function: an asynchronous invocation (FC retries it, then its destination)`;

const HELP = {
  main: `Usage: coupon <command> [options]

Commands:
  send        issue coupons (flags or --file with a flat, envelope or batch request)
  status      show an operation's record: state, chunks, each recipient's status and coupon id
  reconcile   settle UNKNOWN recipients with GetCouponPage; --resend sends the never-issued again

Run coupon <command> --help for its options. Exit status: 0 success, 1 failure (nothing done, or a guess
refused), 2 usage or configuration error, 3 partial (some recipients not SENT, or outcomes UNKNOWN).`,
  send: `Usage: coupon send --request-id ID --template ID --uid UID:AMOUNT [--uid UID:AMOUNT …] [options]
       coupon send --file request.json [options]

The request:
  --request-id ID           names the operation: sending it again never issues twice
  --template ID             the coupon template
  --uid UID:AMOUNT          a recipient and its amount (repeat for more)
  --seller ID               the seller (default SELLER_ID)
  --from-app APP            the calling app (default FROM_APP)
  --bid ID, --operator TEXT optional SendCoupon fields
  --file PATH               a whole request in any form of CONTRACT §3 instead of the flags

${TARGET_HELP}

Output: a table (uids masked unless --show-uids), or the function's JSON answer with --json.`,
  status: `Usage: coupon status --request-id ID [--seller ID --from-app APP] [--store URL] [--json] [--show-uids]

Reads the operation's record from the store: the local stack's (asked over HTTP: its store is in-process), or
Redis when --store or IDEMPOTENCY_STORE is a redis:// URL. Without --seller and --from-app (or SELLER_ID and
FROM_APP) the one operation with that RequestId is looked for.
--json prints {"RequestId", "state", "chunks", "recipients": [{"uid", "status", "youhuiId"?}]}.`,
  reconcile: `Usage: coupon reconcile --request-id ID [--seller ID --from-app APP] [--store URL] [--resend] [options]

For each UNKNOWN recipient, asks GetCouponPage which coupons the uid holds under the operation's template.
Coupons that other operations in the store account for are not counted again; one left per operation that
could own it is attributed to this one (UNKNOWN → SENT with its youhuiId); none left means never issued
(→ FAILED, retryable); anything else is refused as a guess. This rests on every coupon of the template being
issued through this function. Only with --resend are the never-issued sent again, as RequestId
"<ID>:resend" through the normal path (so a second --resend issues nothing twice).

GetCouponPage goes to RESELLERTRADE_ENDPOINT with ALIBABA_CLOUD_* keys, else to the local stack's emulator
(EMULATOR_PORT, EMULATOR_ACCESS_KEY_*); --endpoint URL overrides it.

${TARGET_HELP}`,
};

type Command = keyof Omit<typeof HELP, 'main'>;

const SEND = {
  ...COMMON,
  ...OPERATION,
  ...TARGET,
  template: { type: 'string' },
  uid: { type: 'string', multiple: true },
  bid: { type: 'string' },
  operator: { type: 'string' },
  file: { type: 'string' },
} as const;
const STATUS = { ...COMMON, ...OPERATION, store: { type: 'string' } } as const;
const RECONCILE = {
  ...COMMON,
  ...OPERATION,
  ...TARGET,
  store: { type: 'string' },
  resend: { type: 'boolean' },
  endpoint: { type: 'string' },
} as const;

function parse(command: Command, args: string[]): Record<string, unknown> {
  const options = command === 'send' ? SEND : command === 'status' ? STATUS : RECONCILE;
  return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
}

/** Runs the command line; gives the exit status. Output and progress go where `io` says. */
export async function main(argv: readonly string[], env: Env, io: Pick<Output, 'out' | 'progress'>): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(HELP.main);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command !== 'send' && command !== 'status' && command !== 'reconcile') {
    io.progress(`coupon: unknown command "${command.slice(0, 40)}"\n\n${HELP.main}`);
    return EXIT.usage;
  }
  try {
    const values = parse(command, [...rest]);
    if (values['help']) {
      io.out(HELP[command]);
      return EXIT.ok;
    }
    const output: Output = { ...io, json: values['json'] === true, showUids: values['show-uids'] === true };
    if (command === 'send') return await send(values, env, output);
    if (command === 'status') return await status(values, env, output);
    return await reconcile(values, env, output);
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      io.progress(`coupon ${command}: ${err.message}\n(see coupon ${command} --help)`);
      return EXIT.usage;
    }
    throw err;
  }
}
