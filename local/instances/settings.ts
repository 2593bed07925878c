import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEFAULT_ASYNC_CONFIG, parseAsyncInvokeConfig, type AsyncInvokeConfig } from '../async-tasks/config.js';

export interface DeployedSettings {
  timeoutSeconds: number;
  memoryMb: number;
  handler: string;
  /** s.yaml's `asyncInvokeConfig` (retries, event age, destinations, asyncTask), FC's defaults where left out. */
  asyncConfig: AsyncInvokeConfig;
}

/** FC's defaults for what s.yaml leaves out (the fc3 component's timeout default is 3 s). */
const FALLBACK: DeployedSettings = {
  timeoutSeconds: 3,
  memoryMb: 512,
  handler: 'index.handler',
  asyncConfig: DEFAULT_ASYNC_CONFIG,
};

const positive = (v: unknown, fallback: number) => (typeof v === 'number' && v > 0 ? v : fallback);

/**
 * Each function's timeout, memory, handler and async configuration as s.yaml deploys them, so the local stack runs
 * them alike. An `asyncInvokeConfig` FC would refuse stops the stack with the function and the field named.
 */
export function deployedSettings(sYamlPath: string, names: readonly string[]): Record<string, DeployedSettings> {
  const doc = parse(readFileSync(sYamlPath, 'utf8')) as {
    resources?: Record<string, { props?: Record<string, unknown> }>;
  };
  const props = Object.values(doc.resources ?? {}).map((r) => r.props ?? {});
  const out: Record<string, DeployedSettings> = {};
  for (const name of names) {
    const p = props.find((x) => x['functionName'] === name) ?? {};
    out[name] = {
      timeoutSeconds: positive(p['timeout'], FALLBACK.timeoutSeconds),
      memoryMb: positive(p['memorySize'], FALLBACK.memoryMb),
      handler: typeof p['handler'] === 'string' ? p['handler'] : FALLBACK.handler,
      asyncConfig: asyncConfigOf(name, p['asyncInvokeConfig']),
    };
  }
  return out;
}

function asyncConfigOf(name: string, raw: unknown): AsyncInvokeConfig {
  const config = parseAsyncInvokeConfig(raw);
  if (typeof config === 'string') throw new Error(`s.yaml: ${name}.asyncInvokeConfig: ${config}`);
  return config;
}
