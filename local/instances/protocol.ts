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

/**
 * One of the gateway's process-wide objects an instance reaches through the channel, named by the key of the
 * global symbol (`Symbol.for(key)`) under which lib/ looks for a host's shared object.
 */
export type SharedTarget = string;

/** The instance's environment variable that lists the shared objects' keys (JSON array). */
export const SHARED_OBJECTS_ENV = 'LOCAL_SHARED_OBJECTS';

/**
 * Written by the runner to stdout after an invocation's last line, before its result: the gateway's cut between
 * one invocation's log lines and the next, never forwarded.
 */
export const END_MARK = '\u001finvocation-end ';

export const errorOf = (err: unknown): InvocationError => ({
  errorMessage: err instanceof Error ? err.message : String(err),
  errorType: err instanceof Error ? err.name : 'Error',
});
