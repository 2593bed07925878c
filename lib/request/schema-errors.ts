import { UnreadableNumber } from '../json.js';
import { quote } from '../redact.js';
import { messageFor } from '../schema/messages.js';
import type { SchemaError, StandaloneValidator } from '../schema/validators.generated.js';
import type { FieldErrors } from './field-errors.js';
import { pointer } from './pointer.js';

/**
 * Whether an ajv error is about a number the exact parser could not read, or about something inside one (ajv
 * sees the placeholder as an object): that number has its own, clearer error (unreadable-numbers.ts).
 */
function aboutUnreadable(data: unknown, e: SchemaError): boolean {
  let v = data;
  const names = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/');
  for (const raw of names) {
    if (v instanceof UnreadableNumber) return true;
    const name = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[name] : undefined;
  }
  if (v instanceof UnreadableNumber) return true;
  if (e.keyword !== 'additionalProperties' || v === null || typeof v !== 'object') return false;
  return (v as Record<string, unknown>)[String(e.params['additionalProperty'])] instanceof UnreadableNumber;
}

/**
 * ajv's errors for `data` (found at `at` in the request) as `{path, message}` a caller can act on, one per path
 * and message, minus those about unreadable numbers.
 */
export function collectSchemaErrors(
  validator: StandaloneValidator,
  data: unknown,
  at: string,
  inBatch: boolean,
  sink: FieldErrors,
): void {
  if (validator(data)) return;
  const seen = new Set<string>();
  for (const e of validator.errors ?? []) {
    if (aboutUnreadable(data, e)) continue;
    const fe = toFieldError(e, at, inBatch);
    const id = `${fe.path}\u0000${fe.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    sink.add(fe.path, fe.message);
  }
}

function toFieldError(e: SchemaError, base: string, inBatch: boolean): { path: string; message: string } {
  const at = `${base}${e.instancePath}`;
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String(e.params['additionalProperty']);
      return { path: pointer(at, name), message: `unknown property "${quote(name)}"` };
    }
    case 'required':
      return { path: pointer(at, String(e.params['missingProperty'])), message: 'is required' };
    case 'minItems':
      if (e.params['limit'] === 1) return { path: at, message: 'must not be empty' };
  }
  return { path: at, message: messageFor(at, inBatch) ?? e.message ?? 'is invalid' };
}
