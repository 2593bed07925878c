import type { TriggerKind } from '../pipeline.js';
import type { Lane } from './gcra.js';

/**
 * Interactive sends (an HTTP call, a single event) go ahead of bulk work: a timer's send, and any delivery (one
 * operation or a batch of them) of more recipients than `bulkThreshold`, whoever asked for it.
 */
export function laneOf(trigger: TriggerKind, recipients: number, bulkThreshold: number): Lane {
  return trigger === 'timer' || recipients > bulkThreshold ? 'bulk' : 'interactive';
}
