/**
 * `npm start`: the local stack. A ResellerTrade emulator, an OSS-compatible bucket and an FC gateway running the
 * functions against them, with no credentials and no network. Stops cleanly on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FUNCTIONS } from '../functions/manifest.js';
import { memoryCampaignStore, SHARED_MEMORY_CAMPAIGNS, type CampaignStore } from '../lib/campaigns/store.js';
import { createMemoryLedger, SHARED_MEMORY_LEDGER, type BudgetLedger } from '../lib/guardrails/ledger.js';
import { createMemoryStore, SHARED_MEMORY_STORE } from '../lib/idempotency/memory.js';
import { createRedisStore } from '../lib/idempotency/redis.js';
import type { IdempotencyStore } from '../lib/idempotency/types.js';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from './emulator/defaults.js';
import { startEmulator } from './emulator/server.js';
import { startOssServer } from './oss/server.js';
import type { OssCredential } from './oss/signature.js';
import { createCallerAuth, parseCallerKeys } from './auth/caller-auth.js';
import { busRuleFromTemplate } from './eventbridge/rule.js';
import { startGateway, type FunctionSettings } from './gateway.js';
import { inlineInvoker, type FcFunction } from './instances/inline.js';
import type { Invoker } from './instances/invoker.js';
import { createInstancePool } from './instances/pool.js';
import { runnerStart } from './instances/runner-build.js';
import { deployedSettings } from './instances/settings.js';
import type { AsyncInvokeConfig } from './async-tasks/config.js';
import { createSharedServer } from './instances/shared-server.js';
import { consoleWriter, logFormatOf } from './console.js';
import { createLogTap, type LogTap } from './log-tap.js';
import { watchAncestors } from './parent-watch.js';
import { stackOperationsPage } from './ui/stack.js';

const logFormat = logFormatOf(process.env['LOG_FORMAT']);
if (logFormat !== 'json' && logFormat !== 'pretty') {
  process.stderr.write(`local stack: ${logFormat}\n`);
  process.exit(2);
}
/** Every line the stack prints, its own and its functions': JSON, or readable with LOG_FORMAT=pretty. */
const print = consoleWriter(logFormat);
const line = (fields: Record<string, unknown>) =>
  print(JSON.stringify({ time: new Date().toISOString(), level: 'info', ...fields }));

/** A setting the stack cannot start with: said on stderr, exit 2. */
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) fail(`${name} must be a number >= 0 (got "${raw.slice(0, 64)}")`);
  return n;
}

type FunctionSource = 'src' | 'dist';

function functionSource(): FunctionSource {
  const raw = process.env['LOCAL_FUNCTIONS'] || 'src';
  if (raw === 'src' || raw === 'dist') return raw;
  fail(
    `LOCAL_FUNCTIONS must be "src" (the TypeScript sources, the default) or "dist" (the built bundles); got "${raw.slice(0, 64)}"`,
  );
}

/** Each function's entry module: its TypeScript source, or its built bundle. */
function entries(source: FunctionSource): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, file] of Object.entries(FUNCTIONS)) {
    const path = `${process.cwd()}/dist/${name}/index.mjs`;
    if (source === 'dist' && !existsSync(path)) {
      throw new Error(`LOCAL_FUNCTIONS=dist but ${path} does not exist: run npm run build first`);
    }
    out[name] = source === 'dist' ? pathToFileURL(path).href : new URL(`../${file}`, import.meta.url).href;
  }
  return out;
}

async function loadFunctions(modules: Record<string, string>): Promise<Record<string, FcFunction>> {
  const out: Record<string, FcFunction> = {};
  for (const [name, url] of Object.entries(modules)) {
    const mod = (await import(url)) as { handler: FcFunction };
    out[name] = mod.handler;
  }
  return out;
}

type InstanceMode = 'processes' | 'inline';

/** The registry key of a `Symbol.for` symbol: how an instance names the same global symbol. */
function keyOf(symbol: symbol): string {
  const key = Symbol.keyFor(symbol);
  if (key === undefined) throw new Error(`${String(symbol)} is not a global symbol`);
  return key;
}

function instanceMode(): InstanceMode {
  const raw = process.env['LOCAL_INSTANCES'] || 'processes';
  if (raw === 'processes' || raw === 'inline') return raw;
  fail(
    `LOCAL_INSTANCES must be "processes" (FC's instance model, the default) or "inline" (one process, for debugging); got "${raw.slice(0, 64)}"`,
  );
}

function overflowMode(): 'wait' | 'reject' {
  const raw = process.env['LOCAL_INSTANCE_OVERFLOW'] || 'wait';
  if (raw === 'wait' || raw === 'reject') return raw;
  fail(`LOCAL_INSTANCE_OVERFLOW must be "wait" or "reject" (got "${raw.slice(0, 64)}")`);
}

function atLeastOne(name: string, fallback: number): number {
  const n = num(name, fallback);
  if (!Number.isInteger(n) || n < 1) fail(`${name} must be a whole number >= 1 (got "${process.env[name]}")`);
  return n;
}

type Deployed = FunctionSettings & { handler: string; asyncConfig: AsyncInvokeConfig };

/**
 * s.yaml's timeout, memory and async configuration per function; FUNCTION_TIMEOUT_SECONDS, when set, is every
 * function's timeout.
 */
function functionSettings(): Record<string, Deployed> {
  const deployed = deployedSettings(fileURLToPath(new URL('../s.yaml', import.meta.url)), Object.keys(FUNCTIONS));
  const override = process.env['FUNCTION_TIMEOUT_SECONDS'] ? num('FUNCTION_TIMEOUT_SECONDS', 60) : undefined;
  if (override !== undefined && override <= 0) fail('FUNCTION_TIMEOUT_SECONDS must be a number > 0');
  return Object.fromEntries(
    Object.entries(deployed).map(([name, d]) => [name, { ...d, timeoutSeconds: override ?? d.timeoutSeconds }]),
  );
}

interface Functions {
  invoker: Invoker;
  prewarm(): Promise<void>;
  memoryStore: IdempotencyStore;
  memoryLedger: BudgetLedger;
  memoryCampaigns: CampaignStore;
}

/** The functions, as FC runs them (instance processes) or all in this process (LOCAL_INSTANCES=inline). */
async function startFunctions(
  source: FunctionSource,
  mode: InstanceMode,
  modules: Record<string, string>,
  settings: Record<string, Deployed>,
  fc: {
    region: string;
    accountId: string;
    credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  },
  logTap: LogTap,
): Promise<Functions> {
  // One memory store and budget ledger for every function and instance: what a deployed shared store gives. Each
  // goes where lib/ looks for a host's shared one: a global symbol here, its proxy in every instance.
  const memoryStore = createMemoryStore();
  const memoryLedger = createMemoryLedger();
  const memoryCampaigns = memoryCampaignStore();
  const shared = new Map<symbol, object>([
    [SHARED_MEMORY_STORE, memoryStore],
    [SHARED_MEMORY_LEDGER, memoryLedger],
    [SHARED_MEMORY_CAMPAIGNS, memoryCampaigns],
  ]);
  if (mode === 'inline') {
    for (const [symbol, object] of shared) Object.assign(globalThis, { [symbol]: object });
    logTap.observeThisProcess();
    return {
      invoker: inlineInvoker(await loadFunctions(modules)),
      prewarm: async () => undefined,
      memoryStore,
      memoryLedger,
      memoryCampaigns,
    };
  }
  const pool = createInstancePool({
    functions: Object.fromEntries(
      Object.entries(modules).map(([name, entry]) => {
        const { timeoutSeconds = 60, memoryMb = 512, handler = 'index.handler' } = settings[name] ?? {};
        return [name, { entry, codePath: dirname(fileURLToPath(entry)), timeoutSeconds, memoryMb, handler }];
      }),
    ),
    ...(await runnerStart(source)),
    env: process.env,
    ...fc,
    maxInstances: atLeastOne('LOCAL_MAX_INSTANCES', 8),
    overflow: overflowMode(),
    idleSeconds: num('LOCAL_INSTANCE_IDLE_SECONDS', 300),
    shared: createSharedServer(Object.fromEntries([...shared].map(([symbol, object]) => [keyOf(symbol), object]))),
    sharedKeys: [...shared.keys()].map(keyOf),
    log: (fields) => line({ component: 'gateway', ...fields }),
    onLine: (text, requestId) => {
      print(text);
      if (requestId !== undefined) logTap.add(requestId, text);
    },
  });
  return { invoker: pool, prewarm: () => pool.prewarm(), memoryStore, memoryLedger, memoryCampaigns };
}

/** The store setting as the ready line shows it: never its credentials. */
function storeForDisplay(value: string | undefined): string {
  if (!value || value === 'memory') return 'memory';
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}`;
  } catch {
    return 'redis (the URL given cannot be read)';
  }
}

/** LOCAL_AUTH=function: the gateway checks callers as FC's `function` auth does, against LOCAL_CALLER_KEYS. */
function localCallerKeys(): ReadonlyMap<string, string> | undefined {
  const mode = process.env['LOCAL_AUTH'] || 'anonymous';
  if (mode === 'anonymous') return undefined;
  if (mode !== 'function') fail(`LOCAL_AUTH must be "function" or "anonymous" (got "${mode.slice(0, 64)}")`);
  const keys = parseCallerKeys(process.env['LOCAL_CALLER_KEYS'] ?? '');
  if (typeof keys === 'string') fail(`LOCAL_AUTH=function needs LOCAL_CALLER_KEYS: ${keys}`);
  return keys;
}

/**
 * The bucket's keys: the runtime role's (what the functions get in context.credentials; locally the emulator's
 * key, with its security token when one is set) and every LOCAL_CALLER_KEYS key (callers such as the CLI).
 */
function bucketKeys(role: OssCredential, callerKeys: ReadonlyMap<string, string> | undefined): OssCredential[] {
  const keys = [role];
  for (const [accessKeyId, accessKeySecret] of callerKeys ?? []) {
    if (accessKeyId !== role.accessKeyId) keys.push({ accessKeyId, accessKeySecret });
  }
  return keys;
}

/** OSS_BUCKET: a bucket name as OSS allows it (3-63 of a-z 0-9 -, starting and ending with a letter or digit). */
function bucketName(): string {
  const raw = process.env['OSS_BUCKET'] || 'coupon-campaigns';
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(raw))
    fail(
      `OSS_BUCKET must be 3-63 characters of a-z, 0-9 and -, starting and ending with a letter or digit (got "${raw.slice(0, 64)}")`,
    );
  return raw;
}

async function main(): Promise<void> {
  const accessKeyId = process.env['EMULATOR_ACCESS_KEY_ID'] || DEFAULT_EMULATOR_KEY_ID;
  const accessKeySecret = process.env['EMULATOR_ACCESS_KEY_SECRET'] || DEFAULT_EMULATOR_KEY_SECRET;
  const securityToken = process.env['EMULATOR_SECURITY_TOKEN'] || undefined;
  const qps = num('EMULATOR_QPS', 0);
  const shape = process.env['EMULATOR_RESPONSE_SHAPE'] === 'doc' ? 'doc' : 'sdk';
  const emulator = await startEmulator({
    port: num('EMULATOR_PORT', 9100),
    accessKeyId,
    accessKeySecret,
    ...(securityToken ? { securityToken } : {}),
    ...(qps > 0 ? { qps } : {}),
    latencyMs: num('EMULATOR_LATENCY_MS', 0),
    responseShape: shape,
    firstYouhuiId: BigInt(process.env['EMULATOR_FIRST_YOUHUI_ID'] || '18338'),
  });
  process.env['RESELLERTRADE_ENDPOINT'] ||= emulator.url;
  const callerKeys = localCallerKeys();
  // The campaigns' bucket. The instances inherit this process's environment, so the functions find it there.
  const bucket = bucketName();
  // OSS_ENDPOINT given (another stack's bucket, or OSS itself): the functions use it and no bucket is served here.
  const given = process.env['OSS_ENDPOINT'];
  const oss = given
    ? undefined
    : await startOssServer({
        port: num('OSS_PORT', 9200),
        buckets: [bucket],
        credentials: bucketKeys(
          { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) },
          callerKeys,
        ),
      });
  process.env['OSS_ENDPOINT'] = oss?.url ?? given;
  process.env['OSS_BUCKET'] = bucket;
  process.env['OSS_REGION'] ||= `oss-${oss?.region ?? 'cn-hangzhou'}`;
  const source = functionSource();
  const mode = instanceMode();
  const settings = functionSettings();
  const credentials = { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
  const region = process.env['FC_DEPLOY_REGION'] || 'cn-hangzhou';
  const accountId = '1234567890123456';
  const logTap = createLogTap();
  const { invoker, prewarm, memoryStore, memoryLedger, memoryCampaigns } = await startFunctions(
    source,
    mode,
    entries(source),
    settings,
    { region, accountId, credentials },
    logTap,
  );
  // The same records the functions use, for `coupon status` and `coupon reconcile` (/__gateway/store/).
  const storeUrl = process.env['IDEMPOTENCY_STORE'];
  const store = storeUrl && storeUrl !== 'memory' ? await createRedisStore(storeUrl) : memoryStore;
  const retryDelay = num('ASYNC_RETRY_DELAY_MS', 1000);
  // The runtime role may call FC too (a campaign submits its chunks as async invocations with the role's keys), as
  // a deployed role allowed fc:InvokeFunction can.
  const callerAuth = callerKeys
    ? createCallerAuth(new Map([...callerKeys, [accessKeyId, accessKeySecret]]))
    : undefined;
  // The bus and rule the ROS template creates when deployed, so producers' PutEvents route here as there.
  const rule = busRuleFromTemplate(fileURLToPath(new URL('../deploy/ros/coupon-sender.yaml', import.meta.url)));
  const ui = await stackOperationsPage({
    store,
    memoryLedger,
    memoryCampaigns,
    emulatorUrl: emulator.url,
    endpoint: process.env['RESELLERTRADE_ENDPOINT'] || emulator.url,
    credentials,
    env: process.env,
  });
  const gateway = await startGateway({
    port: num('PORT', 9000),
    invoker,
    functionSettings: settings,
    httpFunction: 'coupon-http',
    credentials,
    region,
    accountId,
    asyncRetryDelayMs: retryDelay,
    asyncConfigs: Object.fromEntries(Object.entries(settings).map(([name, s]) => [name, s.asyncConfig])),
    log: (fields) => line({ level: 'warn', component: 'gateway', ...fields }),
    ...(callerAuth ? { callerAuth } : {}),
    store,
    logTap,
    eventBus: { rule, ...(callerKeys ? { keys: callerKeys } : {}) },
    ui: ui.handle,
  });
  // The campaign functions submit their FC async tasks to this gateway (instances start after this line).
  process.env['FC_ENDPOINT'] ||= gateway.url;
  // A first request finds a warm instance of every function, as it would on a deployment that has been in use.
  if (num('LOCAL_INSTANCE_PREWARM', 1) > 0) await prewarm();
  line({
    msg: 'ready',
    gateway: gateway.url,
    operationsPage: `${gateway.url}/__ui`,
    emulator: emulator.url,
    endpoint: process.env['RESELLERTRADE_ENDPOINT'],
    OSS_ENDPOINT: process.env['OSS_ENDPOINT'],
    OSS_BUCKET: bucket,
    OSS_REGION: process.env['OSS_REGION'],
    idempotencyStore: storeForDisplay(process.env['IDEMPOTENCY_STORE']),
    functions: Object.keys(FUNCTIONS),
    functionSource: source,
    instances: mode,
    callerAuth: callerAuth ? 'function' : 'anonymous',
    dryRun: process.env['DRY_RUN'] === 'true',
    eventBus: rule.busName,
    emulatorAccessKeyId: accessKeyId,
    // Printed only while it is the built-in development default (docs/local-stack.md); a configured one never is.
    ...(accessKeySecret === DEFAULT_EMULATOR_KEY_SECRET ? { emulatorDefaultKey: accessKeySecret } : {}),
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    line({ msg: 'stopping', signal });
    await gateway.close();
    await invoker.close();
    await emulator.close();
    await oss?.close();
    await store.close();
    await ui.close();
    line({ msg: 'stopped' });
    process.exit(0);
  };
  // Nothing a request does may stop the stack: an error that escaped every handler is logged, not fatal.
  process.on('uncaughtException', (err) => line({ level: 'error', msg: 'uncaught error', error: err.message }));
  process.on('unhandledRejection', (err) =>
    line({ level: 'error', msg: 'unhandled rejection', error: err instanceof Error ? err.message : String(err) }),
  );
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  // Killed from above (npm's or tsx's pid, a closed terminal): the stack does not outlive what started it.
  watchAncestors((pid) => void stop(`parent ${pid} exited`));
}

main().catch((err: unknown) => {
  process.stderr.write(`local stack failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
