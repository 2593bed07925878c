/**
 * A function's asynchronous invocation configuration, as FC 3.0 has it (PutAsyncInvokeConfig / s.yaml's
 * `asyncInvokeConfig`): how often a failed invocation is retried, how old an event may get, where what is left
 * goes, and whether invocations are recorded as asynchronous tasks.
 */
export interface AsyncInvokeConfig {
  /** 0-8; FC's default is 3. */
  maxAsyncRetryAttempts: number;
  /** 1-604800; an event older than this is not run again (FC's default: 86400). */
  maxAsyncEventAgeInSeconds: number;
  /** Destination ARNs, as written (`destinationConfig.onFailure.destination`, `…onSuccess.destination`). */
  onFailure?: string;
  onSuccess?: string;
  asyncTask: boolean;
}

export const DEFAULT_ASYNC_CONFIG: AsyncInvokeConfig = {
  maxAsyncRetryAttempts: 3,
  maxAsyncEventAgeInSeconds: 86400,
  asyncTask: false,
};

const MAX_RETRIES = 8;
const MAX_EVENT_AGE = 604800;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function wholeIn(value: unknown, field: string, min: number, max: number): number | string {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    return `${field} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)?.slice(0, 32)})`;
  return value;
}

function destinationOf(config: Record<string, unknown>, which: 'onFailure' | 'onSuccess'): string | undefined | Error {
  const dc = config['destinationConfig'];
  if (dc === undefined || dc === null) return undefined;
  if (!isObject(dc)) return new Error('destinationConfig must be an object');
  const target = dc[which];
  if (target === undefined || target === null) return undefined;
  if (!isObject(target) || typeof target['destination'] !== 'string' || target['destination'] === '')
    return new Error(`destinationConfig.${which}.destination must be a non-empty string (an ARN)`);
  return target['destination'];
}

/**
 * Reads an `asyncInvokeConfig` (s.yaml's, or a PutAsyncInvokeConfig body) over `base`: a field left out keeps
 * its value there. Answers a problem naming the field, never a silent default.
 */
export function parseAsyncInvokeConfig(
  raw: unknown,
  base: AsyncInvokeConfig = DEFAULT_ASYNC_CONFIG,
): AsyncInvokeConfig | string {
  if (raw === undefined || raw === null) return { ...base };
  if (!isObject(raw)) return 'asyncInvokeConfig must be an object';
  const out: AsyncInvokeConfig = { ...base };
  if (raw['maxAsyncRetryAttempts'] !== undefined) {
    const n = wholeIn(raw['maxAsyncRetryAttempts'], 'maxAsyncRetryAttempts', 0, MAX_RETRIES);
    if (typeof n === 'string') return n;
    out.maxAsyncRetryAttempts = n;
  }
  if (raw['maxAsyncEventAgeInSeconds'] !== undefined) {
    const n = wholeIn(raw['maxAsyncEventAgeInSeconds'], 'maxAsyncEventAgeInSeconds', 1, MAX_EVENT_AGE);
    if (typeof n === 'string') return n;
    out.maxAsyncEventAgeInSeconds = n;
  }
  if (raw['asyncTask'] !== undefined) {
    if (typeof raw['asyncTask'] !== 'boolean') return 'asyncTask must be true or false';
    out.asyncTask = raw['asyncTask'];
  }
  if (raw['destinationConfig'] !== undefined) {
    for (const which of ['onFailure', 'onSuccess'] as const) {
      const d = destinationOf(raw, which);
      if (d instanceof Error) return d.message;
      if (d === undefined) delete out[which];
      else out[which] = d;
    }
  }
  return out;
}

/** FC 3.0's AsyncConfig answer (GetAsyncInvokeConfig / PutAsyncInvokeConfig). */
export function asyncConfigBody(
  config: AsyncInvokeConfig,
  functionArn: string,
  times: { createdTime: string; lastModifiedTime: string },
): Record<string, unknown> {
  const destinationConfig = {
    ...(config.onFailure ? { onFailure: { destination: config.onFailure } } : {}),
    ...(config.onSuccess ? { onSuccess: { destination: config.onSuccess } } : {}),
  };
  return {
    asyncTask: config.asyncTask,
    createdTime: times.createdTime,
    lastModifiedTime: times.lastModifiedTime,
    functionArn,
    maxAsyncEventAgeInSeconds: config.maxAsyncEventAgeInSeconds,
    maxAsyncRetryAttempts: config.maxAsyncRetryAttempts,
    ...(Object.keys(destinationConfig).length > 0 ? { destinationConfig } : {}),
  };
}
