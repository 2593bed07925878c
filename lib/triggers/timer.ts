import { AppError } from '../errors.js';
import { JsonSyntaxError, parseJsonExact } from '../json.js';
import type { Delivery } from './delivery.js';

/**
 * A timer firing `{triggerTime, triggerName, payload}`, `payload` being the send request as a JSON string.
 * The operation id includes triggerTime: each firing is its own operation, a redelivered firing is not.
 */
export function decodeTimer(event: Buffer): Delivery {
  let envelope: unknown;
  try {
    envelope = JSON.parse(event.toString('utf8'));
  } catch {
    throw new AppError(400, 'InvalidEvent', 'The timer event is not JSON.');
  }
  const e = (envelope ?? {}) as Record<string, unknown>;
  const errors = [];
  if (typeof e['triggerTime'] !== 'string' || e['triggerTime'] === '')
    errors.push({ path: '/triggerTime', message: 'must be a non-empty string' });
  if (typeof e['triggerName'] !== 'string' || e['triggerName'] === '')
    errors.push({ path: '/triggerName', message: 'must be a non-empty string' });
  if (typeof e['payload'] !== 'string')
    errors.push({ path: '/payload', message: 'must be the send request as a JSON string' });
  if (errors.length > 0)
    throw new AppError(400, 'InvalidEvent', 'The timer event must be {triggerTime, triggerName, payload}.', { errors });
  const triggerName = e['triggerName'] as string;
  const triggerTime = e['triggerTime'] as string;
  let value: unknown;
  try {
    value = parseJsonExact(e['payload'] as string);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new AppError(400, 'InvalidJson', `The timer payload is not valid JSON: ${err.message}.`, {
      errors: [{ path: '/payload', message: `invalid JSON: ${err.message}` }],
    });
  }
  return { value, rule: { kind: 'timer', triggerName, triggerTime }, label: { triggerName, triggerTime } };
}
