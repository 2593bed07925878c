/**
 * The messages between the gateway and an instance process over the fork channel (structured clone, Node's
 * `advanced` serialization). One invocation at a time per instance, as FC's nodejs20 runtime serves them.
 */
import type { FcContext } from '../../lib/fc.js';

export interface InvocationError {
  errorMessage: string;
  errorType: string;
}

/** Gateway → instance. */
export type ToInstance =
  | { type: 'invoke'; id: number; event: Uint8Array; context: FcContext }
  | { type: 'shared-reply'; call: number; ok: true; value: unknown; iterable: boolean }
  | { type: 'shared-reply'; call: number; ok: false; error: InvocationError };

/** Instance → gateway. */
export type FromInstance =
  | { type: 'ready' }
  | { type: 'init-failed'; error: InvocationError }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: InvocationError }
  | { type: 'shared-call'; call: number; target: SharedTarget; method: string; args: unknown[] };

/** The gateway's process-wide objects an instance reaches through the channel. */
export type SharedTarget = 'store' | 'ledger';

/**
 * Written by the runner to stdout after an invocation's last line, before its result: the gateway's cut between
 * one invocation's log lines and the next, never forwarded.
 */
export const END_MARK = '\u001finvocation-end ';

export const errorOf = (err: unknown): InvocationError => ({
  errorMessage: err instanceof Error ? err.message : String(err),
  errorType: err instanceof Error ? err.name : 'Error',
});
