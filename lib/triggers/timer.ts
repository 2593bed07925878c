import { AppError, type FieldError } from '../errors.js';
import { quote } from '../redact.js';
import type { Delivery } from './delivery.js';
import { exactJson, refuseOverfullJson, utf8Text } from './parse.js';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** An RFC 3339 date-time with its fields in range (a leap second allowed, as RFC 3339 does). */
export function isRfc3339(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as number[];
  const offsetOk = m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59);
  return (
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= 31 &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 60 &&
    offsetOk &&
    !Number.isNaN(Date.parse(text.replace(/:60(?=[.Zz+-])/, ':59')))
  );
}

const refused = (errors: FieldError[], label: Record<string, string> = {}): Delivery => ({
  refused: new AppError(400, 'InvalidEvent', 'The timer event must be {triggerTime, triggerName, payload}.', {
    errors,
  }),
  label,
});

/**
 * A timer firing `{triggerTime, triggerName, payload}`, `payload` being the send request as a JSON string.
 * The operation id includes triggerTime: each firing is its own operation, a redelivered firing is not.
 */
export function decodeTimer(event: Buffer): Delivery {
  let envelope: unknown;
  try {
    const text = utf8Text(event, 'The timer event');
    refuseOverfullJson(text, 'The timer event');
    envelope = JSON.parse(text);
  } catch (err) {
    if (err instanceof AppError) return { refused: err, label: {} };
    return refused([{ path: '', message: 'is not JSON' }]);
  }
  const e =
    envelope !== null && typeof envelope === 'object' && !Array.isArray(envelope)
      ? (envelope as Record<string, unknown>)
      : {};
  const { triggerTime, triggerName, payload } = e;
  const errors: FieldError[] = [];
  if (typeof triggerTime !== 'string' || !isRfc3339(triggerTime)) {
    errors.push({ path: '/triggerTime', message: 'must be an RFC 3339 time such as 2026-11-29T16:00:00Z' });
  }
  if (typeof triggerName !== 'string' || triggerName === '') {
    errors.push({ path: '/triggerName', message: 'must be a non-empty string' });
  }
  if (typeof payload !== 'string')
    errors.push({ path: '/payload', message: 'must be the send request as a JSON string' });
  if (
    errors.length > 0 ||
    typeof triggerTime !== 'string' ||
    typeof triggerName !== 'string' ||
    typeof payload !== 'string'
  ) {
    return refused(errors);
  }
  const label = { triggerName: quote(triggerName), triggerTime };
  try {
    const value = exactJson(payload, 'The timer payload', '/payload');
    return { value, rule: { kind: 'timer', triggerName, triggerTime }, label };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { refused: err, label };
  }
}
