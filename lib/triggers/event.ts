import { AppError } from '../errors.js';
import { JsonSyntaxError, parseJsonExact } from '../json.js';
import type { Delivery } from './delivery.js';

type Json = Record<string, unknown>;

function isCloudEvent(v: unknown): v is Json {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    typeof (v as Json)['specversion'] === 'string' &&
    'id' in v &&
    'source' in v
  );
}

function parse(text: string, what: string): unknown {
  try {
    return parseJsonExact(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new AppError(400, 'InvalidJson', `${what} is not valid JSON: ${err.message}.`, {
      errors: [{ path: '', message: `invalid JSON: ${err.message}` }],
    });
  }
}

function fromCloudEvent(ce: Json): Delivery {
  const source = String(ce['source']);
  const id = String(ce['id']);
  const data = ce['data'];
  const value = typeof data === 'string' ? parse(data, `The data of CloudEvent ${source}/${id}`) : data;
  return { value, rule: { kind: 'default', value: `${source}:${id}` }, label: { eventSource: source, eventId: id } };
}

/**
 * EventBridge deliveries: one CloudEvent, an array of them (event-streaming), or RawData (the bare send
 * request, which then needs its own RequestId: there is no event id to derive one from). Bytes that are not
 * JSON at all are one delivery that fails validation.
 */
export function decodeEvents(event: Buffer): Delivery[] {
  const value = parse(event.toString('utf8'), 'The event');
  if (isCloudEvent(value)) return [fromCloudEvent(value)];
  if (Array.isArray(value) && value.length > 0 && value.every(isCloudEvent)) return value.map(fromCloudEvent);
  return [{ value, rule: { kind: 'required' }, label: { delivery: 'RawData' } }];
}
