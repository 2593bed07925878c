import type { FcContext } from './fc.js';
import type { Logger } from './log.js';
import type { Runtime } from './runtime.js';
import type { DecodedDelivery, Delivery } from './triggers/delivery.js';

export type TriggerKind = 'http' | 'event' | 'timer';

/** Per-invocation state that the middlewares hand to each other (never module state). */
export interface Invocation {
  trigger: TriggerKind;
  fcRequestId: string;
  startedAt: number;
  deadline: number;
  logger: Logger;
  runtime: Runtime;
  received: Delivery[];
  decoded: DecodedDelivery[];
}

export type InvocationContext = FcContext & { invocation?: Invocation };

export function invocationOf(context: InvocationContext): Invocation {
  if (!context.invocation) throw new Error('fcInvocation() middleware must run first');
  return context.invocation;
}
