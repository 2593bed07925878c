/**
 * What `npm run deploy` needs from the deploying shell: every variable s.yaml reads, with the rule its value must
 * follow. Checked before anything is built or uploaded, so a deploy never starts half-configured.
 */
export interface DeployVariable {
  name: string;
  required: boolean;
  /** What it is, for the refusal and for docs/deploy.md. */
  what: string;
  /** A value that passes; null when any non-empty text does. */
  pattern: RegExp | null;
}

const digits = /^[1-9][0-9]{0,18}$/;

export const DEPLOY_VARIABLES: readonly DeployVariable[] = [
  {
    name: 'COUPON_FUNCTION_ROLE_ARN',
    required: true,
    what: 'the functions’ RAM role (ROS output RoleArn), acs:ram::<account id>:role/<name>',
    pattern: /^acs:ram::[0-9]+:role\/[A-Za-z0-9._-]+$/,
  },
  {
    name: 'IDEMPOTENCY_STORE',
    required: true,
    what: 'the shared Redis, redis://[user:]password@host:port[/db] or rediss://…',
    pattern: /^rediss?:\/\/\S+$/,
  },
  { name: 'SELLER_ID', required: true, what: 'your ResellerTrade seller (partner) UID', pattern: digits },
  { name: 'FROM_APP', required: true, what: 'the app name sent as FromApp (1–64 characters)', pattern: /^\S.{0,63}$/u },
  {
    name: 'COUPON_SLS_PROJECT',
    required: true,
    what: 'the SLS project for the logs (ROS output SlsProject)',
    pattern: /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
  },
  {
    name: 'COUPON_FAILURE_DESTINATION',
    required: true,
    what: 'the async on-failure queue (ROS output FailureDestination)',
    pattern: /^acs:mns:[a-z0-9-]+:[0-9]+:\/queues\/[A-Za-z0-9-]+\/messages$/,
  },
  { name: 'COUPON_VPC_ID', required: true, what: 'the VPC of the Redis instance', pattern: /^vpc-[a-z0-9]+$/ },
  {
    name: 'COUPON_VSWITCH_IDS',
    required: true,
    what: 'comma-separated vSwitch ids of that VPC, in zones FC supports',
    pattern: /^vsw-[a-z0-9]+(,vsw-[a-z0-9]+)*$/,
  },
  { name: 'COUPON_SECURITY_GROUP_ID', required: true, what: 'a security group of that VPC', pattern: /^sg-[a-z0-9]+$/ },
  {
    name: 'FC_DEPLOY_REGION',
    required: false,
    what: 'the region (default cn-hangzhou)',
    pattern: /^[a-z]{2}-[a-z0-9-]+$/,
  },
  { name: 'COUPON_SLS_LOGSTORE', required: false, what: 'the logstore (default coupon-sender)', pattern: null },
  { name: 'COUPON_REDIS_CA_FILE', required: false, what: 'a PEM CA bundle for a rediss:// store', pattern: null },
  {
    name: 'DRY_RUN',
    required: false,
    what: 'true: validate and log, send nothing (deploy this way first)',
    pattern: /^(true|false)$/,
  },
  { name: 'MAX_COUPON_AMOUNT', required: false, what: 'largest amount of one coupon (default 10000)', pattern: null },
  { name: 'MAX_RECIPIENTS', required: false, what: 'most recipients in one operation (default 10000)', pattern: null },
  { name: 'MAX_OPERATION_AMOUNT', required: false, what: 'guardrail: sum of one operation', pattern: null },
  { name: 'TEMPLATE_ALLOWLIST', required: false, what: 'guardrail: comma-separated template ids', pattern: null },
  { name: 'DAILY_BUDGET', required: false, what: 'guardrail: sum per seller per day', pattern: null },
  {
    name: 'BUDGET_TIMEZONE',
    required: false,
    what: 'the budget’s calendar day (default Asia/Shanghai)',
    pattern: null,
  },
  {
    name: 'COUPON_CAMPAIGN_BUCKET',
    required: false,
    what: 'the campaign bucket (ROS output CampaignBucket; default coupon-campaigns)',
    pattern: /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
  },
  { name: 'MAX_CAMPAIGN_AMOUNT', required: false, what: 'guardrail: sum of one campaign', pattern: null },
  { name: 'COUPON_TIMER_CRON', required: false, what: 'the timer’s schedule', pattern: null },
  { name: 'COUPON_TIMER_PAYLOAD', required: false, what: 'the timer’s send request, as JSON text', pattern: null },
];

/** One line per problem, each naming its variable; empty when the shell can deploy. */
export function deployProblems(env: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  for (const v of DEPLOY_VARIABLES) {
    const value = env[v.name];
    if (value === undefined || value === '') {
      if (v.required) problems.push(`${v.name} is required: ${v.what}`);
      continue;
    }
    if (v.pattern && !v.pattern.test(value)) problems.push(`${v.name} is not valid: expected ${v.what}`);
  }
  return problems;
}
