import { randomBytes } from 'node:crypto';
import type { FcContext, FcCredentials } from '../../lib/fc.js';
import { Instance } from './instance.js';
import type { InstanceInfo, InvocationOutcome, Invoker } from './invoker.js';
import { SHARED_OBJECTS_ENV } from './protocol.js';
import { startReaper } from './reaper.js';
import type { SharedServer } from './shared-server.js';

export interface FunctionSetup {
  /** The module an instance loads (a file URL): the TypeScript entry, or the built dist/<fn>/index.mjs. */
  entry: string;
  /** Where FC_FUNC_CODE_PATH points. */
  codePath: string;
  timeoutSeconds: number;
  memoryMb: number;
  handler: string;
}

export interface PoolOptions {
  functions: Record<string, FunctionSetup>;
  /** node flags of every instance (`--import tsx` for TypeScript), and the runner module it starts. */
  execArgv: string[];
  runner: string;
  /** The environment every instance starts from (the stack's own); FC_* and the role's keys are added. */
  env: NodeJS.ProcessEnv;
  region: string;
  accountId: string;
  credentials: FcCredentials;
  maxInstances: number;
  overflow: 'wait' | 'reject';
  idleSeconds: number;
  shared: SharedServer;
  /** The keys of the global symbols the shared objects go under in each instance. */
  sharedKeys: string[];
  log(fields: Record<string, unknown>): void;
  /** Each line an instance writes to stdout, with the request id of its invocation then (for log tails). */
  onLine(line: string, requestId: string | undefined): void;
}

interface Waiter {
  take(instance: Instance | undefined): void;
}

interface FunctionInstances {
  all: Set<Instance>;
  /** Frozen, most recently used last: the next invocation takes the warmest. */
  idle: Instance[];
  waiters: Waiter[];
}

type Acquired = { instance: Instance } | { outcome: InvocationOutcome };

const throttled = (name: string): InvocationOutcome => ({
  kind: 'throttled',
  message: `function ${name} has reached its limit of concurrent instances`,
});

/**
 * FC's instance model for the local stack: each function's invocations run in instance processes, one at a time
 * each; an invocation that finds no idle instance starts one (a cold start), up to `maxInstances`; beyond that it
 * waits for one to come free (or is refused, overflow=reject). Idle instances are frozen and reclaimed after
 * `idleSeconds`.
 */
export function createInstancePool(options: PoolOptions): Invoker & { prewarm(): Promise<void> } {
  const pools = new Map<string, FunctionInstances>();
  for (const name of Object.keys(options.functions)) pools.set(name, { all: new Set(), idle: [], waiters: [] });
  const idleTimers = new Map<Instance, NodeJS.Timeout>();
  const doomed = new WeakSet<Instance>();
  const reaper = startReaper();
  let closing = false;

  const poolOf = (name: string): FunctionInstances => {
    const pool = pools.get(name);
    if (!pool) throw new Error(`no function ${name}`);
    return pool;
  };

  const envFor = (name: string, setup: FunctionSetup, instanceId: string): NodeJS.ProcessEnv => ({
    ...options.env,
    FC_FUNCTION_NAME: name,
    FC_FUNCTION_HANDLER: setup.handler,
    FC_FUNCTION_MEMORY_SIZE: String(setup.memoryMb),
    FC_FUNC_CODE_PATH: setup.codePath,
    FC_REGION: options.region,
    FC_ACCOUNT_ID: options.accountId,
    FC_INSTANCE_ID: instanceId,
    LOCAL_INSTANCE_ENTRY: setup.entry,
    [SHARED_OBJECTS_ENV]: JSON.stringify(options.sharedKeys),
    // FC gives the role's keys to the code twice: in context.credentials and in these variables.
    ...(options.credentials.accessKeyId ? { ALIBABA_CLOUD_ACCESS_KEY_ID: options.credentials.accessKeyId } : {}),
    ...(options.credentials.accessKeySecret
      ? { ALIBABA_CLOUD_ACCESS_KEY_SECRET: options.credentials.accessKeySecret }
      : {}),
    ...(options.credentials.securityToken ? { ALIBABA_CLOUD_SECURITY_TOKEN: options.credentials.securityToken } : {}),
  });

  const kill = (instance: Instance) => {
    doomed.add(instance);
    instance.kill();
  };

  const forget = (name: string, instance: Instance) => {
    const pool = poolOf(name);
    pool.all.delete(instance);
    pool.idle = pool.idle.filter((i) => i !== instance);
    clearTimeout(idleTimers.get(instance));
    idleTimers.delete(instance);
    reaper.forget(instance.pid);
    // A request waiting for a free instance gets a new one in the place of the one that went.
    const waiter = pool.waiters.shift();
    if (waiter) void coldStart(name).then((got) => waiter.take('instance' in got ? got.instance : undefined));
  };

  /** Starts an instance for `name` and waits until its function is loaded. */
  const coldStart = async (name: string): Promise<Acquired> => {
    const setup = options.functions[name];
    if (!setup || closing) return { outcome: throttled(name) };
    const started = Date.now();
    const instanceId = `c-${randomBytes(12).toString('hex')}`;
    const instance: Instance = new Instance({
      functionName: name,
      instanceId,
      execArgv: options.execArgv,
      runner: options.runner,
      env: envFor(name, setup, instanceId),
      shared: options.shared,
      onLine: options.onLine,
      onStderr: (chunk) => process.stderr.write(chunk),
      onExit: (gone) => forget(name, gone),
    });
    poolOf(name).all.add(instance);
    reaper.watch(instance.pid);
    try {
      await instance.ready;
    } catch (err) {
      kill(instance);
      const message = err instanceof Error ? err.message : String(err);
      options.log({ level: 'error', msg: 'instance failed to start', functionName: name, error: message });
      return {
        outcome: { kind: 'error', cause: 'crash', error: { errorMessage: message, errorType: 'InitializationError' } },
      };
    }
    options.log({ msg: 'cold start', functionName: name, pid: instance.pid, durationMs: Date.now() - started });
    return { instance };
  };

  const acquire = async (name: string, waitMs: number): Promise<Acquired> => {
    const pool = poolOf(name);
    const warm = pool.idle.pop();
    if (warm) {
      clearTimeout(idleTimers.get(warm));
      idleTimers.delete(warm);
      return { instance: warm };
    }
    if (pool.all.size < options.maxInstances) return coldStart(name);
    if (options.overflow === 'reject') return { outcome: throttled(name) };
    // FC would start more; locally the limit keeps the machine usable, so the request waits within its timeout.
    const instance = await new Promise<Instance | undefined>((resolve) => {
      const waiter: Waiter = {
        take: (i) => {
          clearTimeout(timer);
          resolve(i);
        },
      };
      const timer = setTimeout(() => {
        pool.waiters = pool.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, waitMs);
      pool.waiters.push(waiter);
    });
    return instance ? { instance } : { outcome: throttled(name) };
  };

  const release = (name: string, instance: Instance) => {
    if (instance.exited || doomed.has(instance)) return;
    const pool = poolOf(name);
    const waiter = pool.waiters.shift();
    if (waiter) return waiter.take(instance);
    instance.freeze();
    pool.idle.push(instance);
    idleTimers.set(
      instance,
      setTimeout(() => {
        options.log({ msg: 'instance reclaimed', functionName: name, pid: instance.pid });
        kill(instance);
      }, options.idleSeconds * 1000),
    );
  };

  return {
    has: (name) => pools.has(name),

    async invoke(name: string, event: Buffer, context: FcContext): Promise<InvocationOutcome> {
      const setup = options.functions[name];
      if (!setup)
        return { kind: 'error', cause: 'threw', error: { errorMessage: `no function ${name}`, errorType: 'Error' } };
      const got = await acquire(name, setup.timeoutSeconds * 1000);
      if ('outcome' in got) return got.outcome;
      const outcome = await got.instance.invoke(event, context, setup.timeoutSeconds);
      if (outcome.kind === 'error' && outcome.cause !== 'threw') doomed.add(got.instance);
      release(name, got.instance);
      return outcome;
    },

    /** One instance of every function, started and frozen before the first request. */
    async prewarm() {
      await Promise.all(
        [...pools.keys()].map(async (name) => {
          const got = await coldStart(name);
          if ('instance' in got) release(name, got.instance);
        }),
      );
    },

    instances: (): InstanceInfo[] => [...pools.values()].flatMap((p) => [...p.all].map((i) => i.info())),

    async close() {
      closing = true;
      const all = [...pools.values()].flatMap((p) => [...p.all]);
      for (const pool of pools.values()) for (const w of pool.waiters.splice(0)) w.take(undefined);
      for (const t of idleTimers.values()) clearTimeout(t);
      await Promise.all(
        all.map((i) => {
          kill(i);
          return i.gone;
        }),
      );
      reaper.close();
    },
  };
}
