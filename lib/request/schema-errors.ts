import type { FieldError } from '../errors.js';
import { quote } from '../redact.js';
import { messageFor } from '../schema/messages.js';
import type { SchemaError, StandaloneValidator } from '../schema/validators.generated.js';
import { pointer } from './pointer.js';

/** ajv's errors as `{path, message}` a caller can act on, one per path and message, minus paths in `skip`. */
export function schemaErrors(
  validator: StandaloneValidator,
  value: unknown,
  prefix: string,
  skip: ReadonlySet<string>,
): FieldError[] {
  if (validator(value)) return [];
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of validator.errors ?? []) {
    const fe = toFieldError(e, prefix);
    if (skip.has(fe.path)) continue;
    const id = `${fe.path}\u0000${fe.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(fe);
  }
  return out;
}

function toFieldError(e: SchemaError, prefix: string): FieldError {
  const at = `${prefix}${e.instancePath}`;
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
  return { path: at, message: messageFor(at, prefix !== '') ?? e.message ?? 'is invalid' };
}
