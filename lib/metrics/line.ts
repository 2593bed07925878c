import type { Logger } from '../log.js';

/**
 * A metric line's own fields: flat (SLS indexes no arrays, nor objects inside a `message` field indexed to depth 1)
 * and scalar, so every field is one SLS json_keys entry (deploy/sls/index.json).
 */
export type MetricValue = string | number | boolean;
export type MetricFields = Record<string, MetricValue>;
export type MetricLevel = 'info' | 'warn' | 'error';

export interface MetricLine {
  msg: string;
  level: MetricLevel;
  fields: MetricFields;
}

/** Adds the fields whose value is known; an unknown figure is left out, never written as 0 or null. */
export function defined(fields: Record<string, MetricValue | undefined>): MetricFields {
  const out: MetricFields = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}

export function writeMetric(logger: Logger, line: MetricLine): void {
  logger[line.level](line.msg, line.fields);
}
