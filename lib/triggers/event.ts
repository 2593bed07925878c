import { AppError, type FieldError } from '../errors.js';
import { quote } from '../redact.js';
import type { Delivery, DeliveryLabel } from './delivery.js';
import { exactJson, utf8Text } from './parse.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Anything with `specversion` is meant as a CloudEvent and is judged as one, never as a bare send request. */
const isCloudEventLike = (v: unknown): v is Json => isObject(v) && 'specversion' in v;

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

const invalidEvent = (errors: FieldError[], label: DeliveryLabel): Delivery => ({
  refused: new AppError(400, 'InvalidEvent', 'The CloudEvent cannot be delivered: the problems are listed in errors.', {
    errors,
  }),
  label,
});

function fromCloudEvent(ce: Json, base: string): Delivery {
  const errors: FieldError[] = [];
  if (!nonEmpty(ce['id'])) errors.push({ path: `${base}/id`, message: 'must be a non-empty string' });
  if (!nonEmpty(ce['source'])) errors.push({ path: `${base}/source`, message: 'must be a non-empty string' });
  if (ce['data'] === undefined) errors.push({ path: `${base}/data`, message: 'is required (the send request)' });
  const id = ce['id'];
  const source = ce['source'];
  if (errors.length > 0 || !nonEmpty(id) || !nonEmpty(source)) {
    return invalidEvent(errors, base === '' ? {} : { eventIndex: base.slice(1) });
  }
  const label = { eventSource: quote(source), eventId: quote(id) };
  const data = ce['data'];
  try {
    const value =
      typeof data === 'string' ? exactJson(data, `The data of CloudEvent ${label.eventId}`, `${base}/data`) : data;
    return { value, rule: { kind: 'default', value: `${source}:${id}` }, label };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { refused: err, label };
  }
}

/**
 * EventBridge deliveries: one CloudEvent, an array of them (event-streaming), or RawData (the bare send
 * request, which then needs its own RequestId: there is no event id to derive one from). Each event is its
 * own delivery: a poison event is refused on its own and never stops the others.
 */
export function decodeEvents(event: Buffer): Delivery[] {
  let value: unknown;
  try {
    value = exactJson(utf8Text(event, 'The event'), 'The event');
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return [{ refused: err, label: {} }];
  }
  if (isCloudEventLike(value)) return [fromCloudEvent(value, '')];
  if (Array.isArray(value) && value.some(isCloudEventLike)) {
    return value.map((element, i) =>
      isCloudEventLike(element)
        ? fromCloudEvent(element, `/${i}`)
        : invalidEvent([{ path: `/${i}`, message: 'is not a CloudEvent (no specversion)' }], { eventIndex: String(i) }),
    );
  }
  return [{ value, rule: { kind: 'required' }, label: { delivery: 'RawData' } }];
}
