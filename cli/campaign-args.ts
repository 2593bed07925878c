import { parseArgs } from 'node:util';
import { UsageError } from './exit.js';

/** What `coupon campaign …` can do; each takes the campaign id as its one operand, but `start`. */
export const CAMPAIGN_ACTIONS = ['start', 'status', 'pause', 'resume', 'cancel', 'results'] as const;
export type CampaignAction = (typeof CAMPAIGN_ACTIONS)[number];

const COMMON = {
  json: { type: 'boolean' },
  'show-uids': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  url: { type: 'string' },
} as const;

const OPTIONS = {
  start: {
    ...COMMON,
    template: { type: 'string' },
    file: { type: 'string' },
    'campaign-id': { type: 'string' },
    seller: { type: 'string' },
    'from-app': { type: 'string' },
    'skip-invalid': { type: 'boolean' },
  },
  status: { ...COMMON, watch: { type: 'boolean' }, interval: { type: 'string' } },
  pause: COMMON,
  resume: COMMON,
  cancel: COMMON,
  results: COMMON,
} as const;

export interface CampaignArgs {
  action: CampaignAction;
  /** The campaign asked about (every action but start). */
  id?: string;
  help: boolean;
  json: boolean;
  showUids: boolean;
  url?: string;
  template?: string;
  file?: string;
  campaignId?: string;
  seller?: string;
  fromApp?: string;
  skipInvalid: boolean;
  watch: boolean;
  /** Seconds between two polls of --watch. */
  intervalSeconds: number;
}

export const DEFAULT_WATCH_SECONDS = 2;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The watch interval: a number of seconds from 0.1 to 60. */
function interval(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_WATCH_SECONDS;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n < 0.1 || n > 60)
    throw new UsageError(`--interval must be a number of seconds from 0.1 to 60 (got "${raw.slice(0, 20)}")`);
  return n;
}

/**
 * `coupon campaign <action> [ID] [options]`, checked strictly: an unknown action or flag, a missing or extra
 * operand, is a usage error (exit 2) before anything is read or sent.
 */
export function parseCampaignArgs(argv: readonly string[]): CampaignArgs {
  const [action, ...rest] = argv;
  if (action === undefined) throw new UsageError(`name an action: ${CAMPAIGN_ACTIONS.join(', ')}`);
  if (!(CAMPAIGN_ACTIONS as readonly string[]).includes(action))
    throw new UsageError(`unknown action "${action.slice(0, 40)}" (one of ${CAMPAIGN_ACTIONS.join(', ')})`);
  const a = action as CampaignAction;
  const { values, positionals } = parseArgs({
    args: [...rest],
    options: OPTIONS[a],
    strict: true,
    allowPositionals: true,
  });
  const v = values as Record<string, unknown>;
  const help = v['help'] === true;
  const args: CampaignArgs = {
    action: a,
    help,
    json: v['json'] === true,
    showUids: v['show-uids'] === true,
    skipInvalid: v['skip-invalid'] === true,
    watch: v['watch'] === true,
    intervalSeconds: interval(str(v['interval'])),
  };
  const set = <K extends keyof CampaignArgs>(key: K, value: CampaignArgs[K] | undefined) => {
    if (value !== undefined) args[key] = value;
  };
  set('url', str(v['url']));
  set('template', str(v['template']));
  set('file', str(v['file']));
  set('campaignId', str(v['campaign-id']));
  set('seller', str(v['seller']));
  set('fromApp', str(v['from-app']));
  if (help) return args;
  if (a === 'start') {
    if (positionals.length > 0)
      throw new UsageError(
        `start takes no operand (got "${(positionals[0] ?? '').slice(0, 40)}"); name the campaign with --campaign-id`,
      );
    if (!args.template) throw new UsageError('--template is required: the coupon template every recipient gets');
    if (!args.file) throw new UsageError('--file is required: the recipients list (CSV uid,amount or JSONL)');
    return args;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? `${a} needs the campaign id: coupon campaign ${a} ID` : `${a} takes one campaign id`,
    );
  args.id = positionals[0] as string;
  if (args.watch && args.json) throw new UsageError('--watch and --json do not go together');
  return args;
}

const TARGET = `Where it goes: the local stack at http://127.0.0.1:$PORT (port 9000), signed with the first
LOCAL_CALLER_KEYS key when that is set; --url URL goes to a deployed HTTP trigger, signed with
ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET.`;

const EXIT = `Exit status:
  0  the campaign COMPLETED with every recipient SENT; for start, pause, resume and cancel: accepted
  1  some recipient FAILED (or a cancelled campaign left some unsent), a refusal, or a target that does not answer
  2  usage error, or a list with invalid lines (nothing was uploaded or started)
  3  some recipient UNKNOWN (coupon reconcile --request-id <CampaignId>:<n>), or the campaign has not finished
  4  no campaign with that id`;

const BUCKET = `The list goes to the bucket OSS_BUCKET (default coupon-campaigns) at OSS_ENDPOINT (the local stack's by
default: http://127.0.0.1:$OSS_PORT, port 9200; for a deployment, OSS_ENDPOINT or OSS_REGION such as
oss-cn-hangzhou), signed with OSS_ACCESS_KEY_ID/_SECRET; else, with --url, ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET;
else, locally, the first LOCAL_CALLER_KEYS key or the stack's own (EMULATOR_ACCESS_KEY_*, default the built-in
one). It goes under lists/<sha256 of the file>.csv|jsonl.`;

export const CAMPAIGN_HELP: Record<'main' | CampaignAction, string> = {
  main: `Usage: coupon campaign <action> [ID] [options]

A campaign sends one coupon to every recipient of a list stored in OSS, cut into chunks that run as FC
asynchronous tasks, each exactly once.

Actions:
  start     check a list here, upload it to the bucket, start the campaign; prints its CampaignId
  status    the campaign's state and counts; --watch follows it to the end
  pause     no new upstream call; owed recipients stay owed
  resume    carry on after pause
  cancel    nothing more is sent; the counts are final
  results   each recipient's outcome, from the campaign's results files

Run coupon campaign <action> --help for its options. Reference: docs/cli.md.

${EXIT}`,
  start: `Usage: coupon campaign start --template ID --file PATH [--campaign-id ID] [--seller ID] [--from-app APP]

Checks every line of the list here, with the same rules the campaign applies (CSV with the header uid,amount,
or JSONL {"uid", "amount"}), and shows the invalid lines by number, the total and an ETA. A list with invalid
lines is refused: nothing is uploaded or started (exit 2), unless --skip-invalid. Then uploads it and starts the
campaign, and prints its CampaignId.
  --template ID             the coupon template
  --file PATH               the recipients list
  --campaign-id ID          1-48 characters of A-Z a-z 0-9 _ -; default: derived from the file's SHA-256, the
                            template, the seller and the app, so running the same start again answers the same
                            campaign and sends nothing twice. The same id with another list is refused.
  --seller ID, --from-app APP   default SELLER_ID, FROM_APP
  --skip-invalid            start even though some lines are invalid (they are never sent)
  --json                    print the campaign's answer as JSON

MAX_COUPON_AMOUNT is the amount limit the local check applies (default 10000); with UPSTREAM_QPS set, the ETA is
the total at UPSTREAM_QPS calls a second of CHUNK_SIZE recipients (default 50).

${BUCKET}

${TARGET}

${EXIT}`,
  status: `Usage: coupon campaign status ID [--json] [--watch [--interval SECONDS]]

The campaign's state (PLANNING, RUNNING, PAUSED, CANCELLED, COMPLETED) and counts.
  --json                    {"campaignId","state","total","planned","sent","failed","unknown","pending"}
  --watch                   poll until the campaign is COMPLETED or CANCELLED: a progress bar on a terminal,
                            a line per change otherwise; then the final status
  --interval SECONDS        between two polls (default ${DEFAULT_WATCH_SECONDS})

${TARGET}

${EXIT}`,
  pause: `Usage: coupon campaign pause ID [--json]

Pauses the campaign: no new upstream call starts (within about 2 s); owed recipients stay owed. resume
carries on.

${TARGET}

${EXIT}`,
  resume: `Usage: coupon campaign resume ID [--json]

Resumes a paused campaign.

${TARGET}

${EXIT}`,
  cancel: `Usage: coupon campaign cancel ID [--json]

Cancels the campaign: nothing more is sent; a chunk already running is still counted; the counts are final.

${TARGET}

${EXIT}`,
  results: `Usage: coupon campaign results ID [--json] [--show-uids]

Each recipient's outcome, read from the campaign's results files in the bucket (one per chunk,
campaigns/<CampaignId>/results/<n>.jsonl): RequestId <CampaignId>:<n>, uid (masked unless --show-uids), amount,
status, youhuiId, Code. An UNKNOWN recipient names the command that settles it: coupon reconcile --request-id
<CampaignId>:<n>.
  --json                    one JSON object per recipient and line (JSONL)

${BUCKET.replace('The list goes to', 'The results are read from').replace(/ It goes under lists\/.*$/s, '')}

${TARGET}

${EXIT}`,
};
