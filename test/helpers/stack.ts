import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Coupon } from '../../local/emulator/ledger.js';
import { scanLogs, secretsOf } from './log-scan.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Stack {
  gateway: string;
  emulator: string;
  logs: string[];
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts `local/start.ts` (what `npm start` runs) in its own process on free ports and waits for its ready line. */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      EMULATOR_PORT: '0',
      OSS_PORT: '0',
      LOG_LEVEL: 'info',
      ASYNC_RETRY_DELAY_MS: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let buffer = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<{ gateway: string; emulator: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start:\n${logs.join('\n')}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        if (line.includes('"msg":"ready"')) {
          clearTimeout(timer);
          const parsed = JSON.parse(line) as { gateway: string; emulator: string };
          resolve({ gateway: parsed.gateway, emulator: parsed.emulator });
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  const urls = await ready;
  // Every scenario that runs a stack is also a log scan: a leak fails the test that caused it.
  const checkLogs = () => {
    const leaks = scanLogs(logs, secretsOf({ ...process.env, ...env }));
    if (leaks.length > 0) {
      throw new Error(
        `the stack logged ${leaks.length} leak(s): ${leaks
          .slice(0, 3)
          .map((l) => `${l.what} in ${l.line.slice(0, 300)}`)
          .join('\n')}`,
      );
    }
  };
  return {
    ...urls,
    logs,
    process: child,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      checkLogs();
      return code;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      checkLogs();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
  call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Invokes a function through the gateway's InvokeFunction API with the raw event bytes. */
export const invoke = (
  stack: Pick<Stack, 'gateway'>,
  fn: string,
  event: unknown,
  type: 'Sync' | 'Async' = 'Sync',
): Promise<Answer> =>
  call(`${stack.gateway}/2023-03-30/functions/${fn}/invocations`, {
    method: 'POST',
    headers: { 'x-fc-invocation-type': type },
    body: typeof event === 'string' ? event : JSON.stringify(event),
  });

export type LedgerCoupon = Omit<Coupon, 'createdAt'>;

export async function ledger(stack: Pick<Stack, 'emulator'>): Promise<LedgerCoupon[]> {
  return ((await call(`${stack.emulator}/__emulator/coupons`)).json as { coupons: LedgerCoupon[] }).coupons;
}

export async function emulatorStats(stack: Pick<Stack, 'emulator'>): Promise<Record<string, number>> {
  return (await call(`${stack.emulator}/__emulator/stats`)).json as Record<string, number>;
}

export async function reset(stack: Pick<Stack, 'emulator'>): Promise<void> {
  await call(`${stack.emulator}/__emulator/reset`, { method: 'POST' });
}

export async function fault(stack: Pick<Stack, 'emulator'>, spec: Record<string, unknown>): Promise<void> {
  const a = await postJson(`${stack.emulator}/__emulator/faults`, spec);
  if (a.status !== 200) throw new Error(`fault not queued: ${a.text}`);
}

export const httpEvent = (
  path: string,
  body: string,
  init: { method?: string; headers?: Record<string, string>; base64?: boolean } = {},
) => ({
  version: 'v1',
  rawPath: path,
  body: init.base64 ? Buffer.from(body).toString('base64') : body,
  isBase64Encoded: init.base64 ?? false,
  headers: init.headers ?? { 'Content-Type': 'application/json' },
  queryParameters: {},
  requestContext: { requestId: '1-test', http: { method: init.method ?? 'POST', path } },
});

let counter = 0;
/** A RequestId unique to this test run. */
export const rid = (label = 'req') => `${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

export interface ListedInstance {
  function: string;
  pid: number;
  state: 'busy' | 'frozen' | 'starting';
  invocations: number;
  startedAt: string;
}

/** The stack's instance processes (`GET /__gateway/instances`), of one function when `fn` is given. */
export async function instances(stack: Pick<Stack, 'gateway'>, fn?: string): Promise<ListedInstance[]> {
  const listed = ((await call(`${stack.gateway}/__gateway/instances`)).json as { instances: ListedInstance[] })
    .instances;
  return fn ? listed.filter((i) => i.function === fn) : listed;
}

/** A process's state letter from /proc (`T` stopped, i.e. frozen; `S`, `R`, `Z`…), undefined once it is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}
