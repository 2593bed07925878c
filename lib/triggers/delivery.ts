import type { AppError } from '../errors.js';
import type { RequestIdRule } from '../request/request-id.js';

/** For logs: what the trigger called a delivery (CloudEvent source and id, timer name and time), quoted short. */
export type DeliveryLabel = Readonly<Record<string, string>>;

/**
 * One send request as a trigger delivered it: the parsed JSON and where its RequestId comes from, or, when the
 * trigger's own envelope is broken (a CloudEvent without an id, a timer without a valid time), its refusal.
 */
export type Delivery =
  { value: unknown; rule: RequestIdRule; label: DeliveryLabel } | { refused: AppError; label: DeliveryLabel };
