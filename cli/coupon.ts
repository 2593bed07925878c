/**
 * `coupon`: send coupons, look up an operation, settle UNKNOWN recipients, run campaigns. Runs against the local stack by
 * default; `--url`, `--function` and `--store` point it at a deployment. This module stays small: each command's
 * code is loaded only when that command runs, so `coupon --help` answers at once.
 */
import { parseArgs } from 'node:util';
import type { Env } from '../lib/config.js';
import { CallError, EXIT, NotFoundError, OutcomeUnknownError, UsageError } from './exit.js';
import type { Io, Output } from './print.js';

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

const EXIT_HELP = `Exit status (every command):
  0  every recipient SENT, a dry run that passed, or nothing to do
  1  some recipient FAILED (nothing issued for it), or the target or store could not be reached
  2  usage or configuration error, or a record that cannot be read: nothing was done
  3  some recipient UNKNOWN (it may hold a coupon): run coupon reconcile --request-id ID; for a campaign,
     also one that has not finished
  4  the RequestId (or the campaign) is not in the store`;

const TARGET_HELP = `Where it goes (default: the local stack at http://127.0.0.1:$PORT, port 9000, signed with the first
LOCAL_CALLER_KEYS key when that is set):
  --url URL                 a deployed HTTP trigger, signed with ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET
  --function NAME           FC 3.0 InvokeFunction of a deployed function (needs --region and --account-id,
                            or ALIBABA_CLOUD_ACCOUNT_ID; --fc-endpoint URL overrides the endpoint)
  --async                   with --function: an asynchronous invocation (FC retries it, then its destination)`;

const STORE_HELP = `The store: the local stack's (asked over HTTP: its store is in-process), or Redis when --store or
IDEMPOTENCY_STORE is a redis:// URL. Without --seller and --from-app (or SELLER_ID and FROM_APP) the one
operation with that RequestId is looked for; a malformed record met on the way is named on stderr and skipped.`;

const HELP = {
  main: `Usage: coupon <command> [options]

Commands:
  send        issue coupons (flags or --file with a flat, envelope or batch request); --dry-run checks only
  status      show an operation's record: state, chunks, each recipient's status and coupon id
  reconcile   settle UNKNOWN recipients with GetCouponPage; --resend sends the never-issued again
  publish     put a send request on the event bus as a CloudEvent, as a producer does (EventBridge PutEvents)
  campaign    a list of up to millions of recipients from OSS: start, status [--watch], pause, resume, cancel,
              results (coupon campaign --help)
  ui          open the deployed operations page (coupon-ops) in a browser through a local signing proxy

Run coupon <command> --help for its options. Reference: docs/cli.md.

${EXIT_HELP}`,
  send: `Usage: coupon send --request-id ID --template ID --uid UID:AMOUNT [--uid UID:AMOUNT …] [options]
       coupon send --file request.json [options]

The request:
  --request-id ID           names the operation: sending it again never issues twice
  --template ID             the coupon template
  --uid UID:AMOUNT          a recipient and its amount (repeat for more)
  --seller ID               the seller (default SELLER_ID)
  --from-app APP            the calling app (default FROM_APP)
  --bid ID, --operator TEXT optional SendCoupon fields
  --file PATH               a whole request (flat, envelope or batch; - reads stdin) instead of the flags
  --dry-run                 check the request as the function does and show the SendCoupon calls it would
                            make; nothing is sent. DRY_RUN=true in the environment does the same.

${TARGET_HELP}

Output: a table (uids masked unless --show-uids), or the function's JSON answer with --json. An answer the
function gave from its record (a repeated RequestId) is marked "replayed": nothing was sent again.

${EXIT_HELP}`,
  status: `Usage: coupon status --request-id ID [--seller ID --from-app APP] [--store URL] [--json] [--show-uids]

Shows the operation's record. A recipient that reconcile sent again shows the RequestId it went under and
its status there.
--json prints {"RequestId", "state", "chunks", "recipients": [{"uid", "status", "youhuiId"?, "resent"?}]}.

${STORE_HELP}

${EXIT_HELP}`,
  publish: `Usage: coupon publish --id EVENT_ID --template ID --uid UID:AMOUNT [--uid UID:AMOUNT …] [options]
       coupon publish --id EVENT_ID --file request.json [options]

Puts the send request on the event bus as one CloudEvent ({specversion, id, source, type, data: the request}),
signed as EventBridge's SDKs sign PutEvents. The rule on the bus invokes coupon-event asynchronously, and the
operation's RequestId is <source>:<id> unless the request names its own: publishing the same event again never
issues twice. The request's JSON text goes in unchanged (ids stay the digits typed).
  --id ID                   the event id (default: --request-id)
  --source SOURCE           the event source the rule matches (default acs.coupon.campaign)
  --type TYPE               the event type (default coupon:Send)
  --bus NAME                the event bus (default coupon-sender)
  The request flags and --file as for coupon send (coupon send --help).

Where it goes (default: the local stack at http://127.0.0.1:$PORT, whose gateway routes PutEvents through the
same rule, signed with the first LOCAL_CALLER_KEYS key when that is set):
  --region R                the region's EventBridge endpoint (https://<account>.eventbridge.<R>.aliyuncs.com;
                            needs --account-id or ALIBABA_CLOUD_ACCOUNT_ID), signed with ALIBABA_CLOUD_ACCESS_KEY_*
  --eventbridge-endpoint URL  another endpoint

Output: the bus's answer (--json: {status, RequestId, FailedEntryCount, EntryList}).

${EXIT_HELP}`,
  reconcile: `Usage: coupon reconcile --request-id ID [--seller ID --from-app APP] [--store URL] [--resend] [options]

For each UNKNOWN recipient, asks GetCouponPage which coupons the uid holds under the operation's template.
Coupons that other operations in the store account for are not counted again; one left per operation that
could own it is attributed to this one (UNKNOWN → SENT with its youhuiId); none left means never issued
(→ FAILED, retryable); anything else is refused as a guess. This rests on every coupon of the template being
issued through this function.

Never issued is concluded only once the chunk's last attempt is older than UPSTREAM_TIMEOUT_MS plus a settle
window: a SendCoupon the function stopped waiting for may still be acted on by the upstream, and a coupon
that appears after a resend would be a second one. Before that, the recipient stays UNKNOWN and the time to
run again is shown.
  --settle-seconds N        the settle window (default RECONCILE_SETTLE_SECONDS, else 300)
  --resend                  send the never-issued again. GetCouponPage is asked again right before (an
                            earlier finding is never trusted), and they go as one normal, idempotent operation
                            with RequestId "<ID>:resend", which the original record points to (coupon status
                            shows it); running --resend again never issues twice.

GetCouponPage goes to RESELLERTRADE_ENDPOINT with ALIBABA_CLOUD_* keys, else to the local stack's emulator
(EMULATOR_PORT, EMULATOR_ACCESS_KEY_*); --endpoint URL overrides it. UPSTREAM_TIMEOUT_MS should be the
function's own (default 10000).

${STORE_HELP}

${TARGET_HELP}

${EXIT_HELP}`,
  ui: `Usage: coupon ui --url https://<coupon-ops trigger> [--port N]

The deployed operations page (the coupon-ops function, docs/operations.md) in a browser. Its HTTP trigger admits
signed requests only, so this listens on 127.0.0.1 (port 8787 unless --port; 0 picks a free one), signs each
request under /__ui with ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN) and passes it on.
Open the address it prints; Ctrl-C stops it. A form posted from any other origin is refused here (403).

${EXIT_HELP}`,
};

type Command = keyof Omit<typeof HELP, 'main'>;
const COMMANDS: readonly string[] = ['send', 'status', 'reconcile', 'publish', 'campaign', 'ui'];

const SEND = {
  ...COMMON,
  ...OPERATION,
  ...TARGET,
  template: { type: 'string' },
  uid: { type: 'string', multiple: true },
  bid: { type: 'string' },
  operator: { type: 'string' },
  file: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;
const STATUS = { ...COMMON, ...OPERATION, store: { type: 'string' } } as const;
const PUBLISH = {
  ...SEND,
  id: { type: 'string' },
  source: { type: 'string' },
  type: { type: 'string' },
  bus: { type: 'string' },
  'eventbridge-endpoint': { type: 'string' },
} as const;
const RECONCILE = {
  ...COMMON,
  ...OPERATION,
  ...TARGET,
  store: { type: 'string' },
  resend: { type: 'boolean' },
  endpoint: { type: 'string' },
  'settle-seconds': { type: 'string' },
} as const;

const UI = { ...COMMON, url: { type: 'string' }, port: { type: 'string' } } as const;

function parse(command: Command, args: string[]): Record<string, unknown> {
  const options =
    command === 'send'
      ? SEND
      : command === 'status'
        ? STATUS
        : command === 'publish'
          ? PUBLISH
          : command === 'ui'
            ? UI
            : RECONCILE;
  return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
}

async function run(command: Command, values: Record<string, unknown>, env: Env, output: Output): Promise<number> {
  if (command === 'send') return (await import('./send.js')).send(values, env, output);
  if (command === 'status') return (await import('./status.js')).status(values, env, output);
  if (command === 'publish') return (await import('./publish.js')).publish(values, env, output);
  if (command === 'ui') return (await import('./ui.js')).ui(values, env, output);
  return (await import('./reconcile.js')).reconcile(values, env, output);
}

const isParseError = (err: unknown): err is Error =>
  err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');

/** Runs the command line; gives the exit status. Never throws: every failure is a message and a status. */
export async function main(argv: readonly string[], env: Env, io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(HELP.main);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (!COMMANDS.includes(command)) {
    io.note(`coupon: unknown command "${command.slice(0, 40)}"\n\n${HELP.main}`);
    return EXIT.usage;
  }
  try {
    // Its own actions, flags and help: loaded only when it runs, with the OSS client it needs.
    if (command === 'campaign') return await (await import('./campaign.js')).campaign(rest, env, io);
    const values = parse(command as Command, [...rest]);
    if (values['help']) {
      io.out(HELP[command as Command]);
      return EXIT.ok;
    }
    const output: Output = { ...io, json: values['json'] === true, showUids: values['show-uids'] === true };
    return await run(command as Command, values, env, output);
  } catch (err) {
    if (err instanceof UsageError || isParseError(err)) {
      io.note(`coupon ${command}: ${err.message}\n(see coupon ${command} --help)`);
      return EXIT.usage;
    }
    if (err instanceof NotFoundError) {
      io.note(`coupon ${command}: ${err.message}`);
      return EXIT.notFound;
    }
    if (err instanceof OutcomeUnknownError) {
      io.note(`coupon ${command}: ${err.message}`);
      return EXIT.unknown;
    }
    if (err instanceof CallError) {
      io.note(`coupon ${command}: ${err.message}`);
      return EXIT.failed;
    }
    // Anything else is a fault of this command: said in one line, without a stack or a path.
    const name = err instanceof Error ? err.name : 'Error';
    const message = err instanceof Error ? err.message.replace(/(?:\/[\w.@-]+){2,}/g, '…').slice(0, 200) : '';
    io.note(`coupon ${command}: failed (${name}: ${message})`);
    return EXIT.failed;
  }
}
