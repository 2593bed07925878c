/**
 * `npm start`: the local stack. A ResellerTrade emulator and an FC gateway running the three functions
 * against it, with no credentials and no network. Stops cleanly on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { FUNCTIONS } from '../functions/manifest.js';
import { createMemoryLedger, SHARED_MEMORY_LEDGER } from '../lib/guardrails/ledger.js';
import { createMemoryStore, SHARED_MEMORY_STORE } from '../lib/idempotency/memory.js';
import { createRedisStore } from '../lib/idempotency/redis.js';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from './emulator/defaults.js';
import { startEmulator } from './emulator/server.js';
import { createCallerAuth, parseCallerKeys, type CallerAuth } from './auth/caller-auth.js';
import { startGateway, type FcFunction } from './gateway.js';
import { createLogTap } from './log-tap.js';
import { stackOperationsPage } from './ui/stack.js';

const line = (fields: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', ...fields })}\n`);

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

async function loadFunctions(source: FunctionSource): Promise<Record<string, FcFunction>> {
  const out: Record<string, FcFunction> = {};
  for (const [name, file] of Object.entries(FUNCTIONS)) {
    const path = `${process.cwd()}/dist/${name}/index.mjs`;
    if (source === 'dist' && !existsSync(path)) {
      throw new Error(`LOCAL_FUNCTIONS=dist but ${path} does not exist: run npm run build first`);
    }
    const url = source === 'dist' ? pathToFileURL(path).href : new URL(`../${file}`, import.meta.url).href;
    const mod = (await import(url)) as { handler: FcFunction };
    out[name] = mod.handler;
  }
  return out;
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
function localCallerAuth(): CallerAuth | undefined {
  const mode = process.env['LOCAL_AUTH'] || 'anonymous';
  if (mode === 'anonymous') return undefined;
  if (mode !== 'function') fail(`LOCAL_AUTH must be "function" or "anonymous" (got "${mode.slice(0, 64)}")`);
  const keys = parseCallerKeys(process.env['LOCAL_CALLER_KEYS'] ?? '');
  if (typeof keys === 'string') fail(`LOCAL_AUTH=function needs LOCAL_CALLER_KEYS: ${keys}`);
  return createCallerAuth(keys);
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
  const source = functionSource();
  // One memory store for every function of this process, however they are loaded (sources or separate bundles).
  const memoryStore = createMemoryStore();
  const memoryLedger = createMemoryLedger();
  Object.assign(globalThis, { [SHARED_MEMORY_STORE]: memoryStore, [SHARED_MEMORY_LEDGER]: memoryLedger });
  const functions = await loadFunctions(source);
  // The same records the functions use, for `coupon status` and `coupon reconcile` (/__gateway/store/).
  const storeUrl = process.env['IDEMPOTENCY_STORE'];
  const store = storeUrl && storeUrl !== 'memory' ? await createRedisStore(storeUrl) : memoryStore;
  const retryDelay = num('ASYNC_RETRY_DELAY_MS', 1000);
  const callerAuth = localCallerAuth();
  const credentials = { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
  const endpoint = process.env['RESELLERTRADE_ENDPOINT'] || emulator.url;
  const ui = await stackOperationsPage({
    store,
    memoryLedger,
    emulatorUrl: emulator.url,
    endpoint,
    credentials,
    env: process.env,
  });
  const gateway = await startGateway({
    port: num('PORT', 9000),
    functions,
    httpFunction: 'coupon-http',
    credentials,
    timeoutSeconds: num('FUNCTION_TIMEOUT_SECONDS', 60),
    asyncRetryDelaysMs: [retryDelay, retryDelay * 2, retryDelay * 4],
    log: (fields) => line({ level: 'warn', component: 'gateway', ...fields }),
    ...(callerAuth ? { callerAuth } : {}),
    store,
    logTap: createLogTap(),
    ui: ui.handle,
  });
  line({
    msg: 'ready',
    gateway: gateway.url,
    operationsPage: `${gateway.url}/__ui`,
    emulator: emulator.url,
    endpoint: process.env['RESELLERTRADE_ENDPOINT'],
    idempotencyStore: storeForDisplay(process.env['IDEMPOTENCY_STORE']),
    functions: Object.keys(functions),
    functionSource: source,
    callerAuth: callerAuth ? 'function' : 'anonymous',
    emulatorAccessKeyId: accessKeyId,
    // Printed only while it is the built-in development default (CONTRACT §5); a configured one never is.
    ...(accessKeySecret === DEFAULT_EMULATOR_KEY_SECRET ? { emulatorDefaultKey: accessKeySecret } : {}),
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    line({ msg: 'stopping', signal });
    await gateway.close();
    await emulator.close();
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
}

main().catch((err: unknown) => {
  process.stderr.write(`local stack failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
