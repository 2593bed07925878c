import type { FcContext } from '../../lib/fc.js';
import type { InvocationError } from './protocol.js';

/** How one invocation ended, as the gateway must answer it. */
export type InvocationOutcome =
  | { kind: 'ok'; value: unknown; instanceId?: string }
  /** The function threw, ran past its timeout, or its process died: FC's UnhandledInvocationError. */
  | { kind: 'error'; error: InvocationError; cause: 'threw' | 'timeout' | 'crash'; instanceId?: string }
  /** No instance could take it (LOCAL_INSTANCE_OVERFLOW=reject, or none came free in time): FC's 429. */
  | { kind: 'throttled'; message: string };

export interface InstanceInfo {
  function: string;
  pid: number;
  state: 'starting' | 'busy' | 'frozen';
  invocations: number;
  startedAt: string;
}

/** What runs the functions for the gateway: instance processes, or the gateway's own process (inline). */
export interface Invoker {
  has(name: string): boolean;
  /** Never rejects: every way an invocation can end is an outcome. */
  invoke(name: string, event: Buffer, context: FcContext): Promise<InvocationOutcome>;
  instances(): InstanceInfo[];
  close(): Promise<void>;
}
