import type { AppError } from '../errors.js';
import type { OperationOutcome } from '../send/execute.js';
import type { DecodedRequest, RequestIdRule } from '../request.js';
import type { Operation } from '../operation.js';

/** One send request as a trigger delivered it: the parsed JSON and where its RequestId comes from. */
export interface Delivery {
  value: unknown;
  rule: RequestIdRule;
  /** For logs: what the trigger called it (CloudEvent source and id, timer name and time). */
  label: Record<string, string>;
}

export type DecodedDelivery = { delivery: Delivery; decoded: DecodedRequest } | { delivery: Delivery; error: AppError };

export type OperationAnswer =
  { operation: Operation; outcome: OperationOutcome } | { operation: Operation; error: AppError };

export type DeliveryResult = { batch: boolean; answers: OperationAnswer[] } | { error: AppError };
