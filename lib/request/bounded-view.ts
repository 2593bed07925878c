import { UnreadableNumber } from '../json.js';
import { envelopeRequestSchema, flatRequestSchema, recipientSchema } from '../schema/definitions.js';
import { MAX_LISTED_ERRORS, type FieldErrors } from './field-errors.js';

type Json = Record<string, unknown>;

export const FLAT_KEYS: ReadonlySet<string> = new Set(Object.keys(flatRequestSchema.properties));
export const ENVELOPE_KEYS: ReadonlySet<string> = new Set(Object.keys(envelopeRequestSchema.properties));
export const PARAM_KEYS: ReadonlySet<string> = new Set(Object.keys(envelopeRequestSchema.properties.param.properties));
export const RECIPIENT_KEYS: ReadonlySet<string> = new Set(Object.keys(recipientSchema.properties));

/**
 * `object` as the schema validator should see it: every known property, and the first MAX_LISTED_ERRORS unknown
 * ones. The validator reports every unknown property it sees and keeps every report in memory, so an object with
 * a million of them is not given to it whole: the ones left out are counted in `errors` (but for those holding an
 * unreadable number, already counted by that walk).
 */
export function boundedView(object: Json, known: ReadonlySet<string>, errors: FieldErrors): Json {
  let unknown = 0;
  for (const key in object) if (!known.has(key)) unknown++;
  if (unknown <= MAX_LISTED_ERRORS) return object;
  const view: Json = Object.create(null) as Json;
  let kept = 0;
  let leftOut = 0;
  for (const key in object) {
    const value = object[key];
    if (known.has(key)) view[key] = value;
    else if (kept < MAX_LISTED_ERRORS) {
      view[key] = value;
      kept++;
    } else if (!(value instanceof UnreadableNumber)) leftOut++;
  }
  errors.addUnlisted(leftOut);
  return view;
}
