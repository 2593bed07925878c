import type { Request } from '@middy/core';
import type { AppError } from './errors.js';
import type { FcContext } from './fc.js';
import type { Logger } from './log.js';
import type { OperationRef } from './operation.js';
import type { DecodedItem } from './request/decode.js';
import type { Runtime } from './runtime.js';
import type { ExecutedOperation } from './send/execute.js';
import type { Delivery, DeliveryLabel } from './triggers/delivery.js';

/**
 * The typed stages of one invocation. Each middleware replaces `request.event` with the next shape (bytes →
 * deliveries → validated deliveries), as middy's body parsers do; per-invocation state lives in
 * `request.internal`, never on FC's context.
 */
export type TriggerKind = 'http' | 'event' | 'timer';

export interface Invocation {
  trigger: TriggerKind;
  fcRequestId: string;
  startedAt: number;
  /** When this invocation must have stopped sending: FC's timeout from the start, less a safety margin. */
  deadline: number;
  logger: Logger;
  runtime: Runtime;
}

export interface ReceivedEvent {
  stage: 'received';
  deliveries: Delivery[];
}

/** A delivery after validation: its operations (each valid or refused in place), or one refusal for all of it. */
export type ValidatedDelivery =
  { label: DeliveryLabel; batch: boolean; items: DecodedItem[] } | { label: DeliveryLabel; error: AppError };

export interface ValidatedEvent {
  stage: 'validated';
  invocation: Invocation;
  deliveries: ValidatedDelivery[];
}

export type PipelineEvent = Buffer | ReceivedEvent | ValidatedEvent;

export type PipelineInternal = { invocation?: Invocation };

export type PipelineRequest = Request<PipelineEvent, unknown, Error, FcContext, PipelineInternal>;

/** The result of one operation: executed (whatever its recipients' statuses) or refused before anything was sent. */
export type OperationResult =
  { ref: OperationRef; executed: ExecutedOperation } | { ref: OperationRef; error: AppError };

export type DeliveryResult = { batch: boolean; results: OperationResult[] } | { error: AppError };

/** Narrows the event to the stage a middleware needs; a wrong order of middlewares fails loudly, at once. */
export function expectStage<S extends ReceivedEvent['stage'] | ValidatedEvent['stage']>(
  event: PipelineEvent,
  stage: S,
): Extract<PipelineEvent, { stage: S }> {
  if (Buffer.isBuffer(event) || event.stage !== stage) throw new Error(`the ${stage} stage of the event is missing`);
  return event as Extract<PipelineEvent, { stage: S }>;
}

export function expectBytes(event: PipelineEvent): Buffer {
  if (!Buffer.isBuffer(event)) throw new Error('the invocation event is no longer raw bytes');
  return event;
}
