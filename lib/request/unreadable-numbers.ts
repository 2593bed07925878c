import type { FieldError } from '../errors.js';
import { UnreadableNumber } from '../json.js';
import { messageFor } from '../schema/messages.js';
import { lastSegment, pointer } from './pointer.js';

const PRECISION =
  'is a JSON number that cannot be read exactly (integers above 2^53-1 lose digits); send ids as a string of digits';

/**
 * Every number the exact parser could not take as it stands, with the path that holds it. The value itself is
 * never quoted: it may be a uid.
 */
export function unreadableNumbers(value: unknown, path = '', out: FieldError[] = []): FieldError[] {
  if (value instanceof UnreadableNumber) {
    const name = lastSegment(path);
    const message =
      value.reason === 'precision'
        ? PRECISION
        : name === 'amount'
          ? 'must have at most 2 decimal places'
          : (messageFor(path, false) ?? 'is not a number this API accepts');
    out.push({ path, message });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => unreadableNumbers(v, pointer(path, i), out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) unreadableNumbers(v, pointer(path, k), out);
  }
  return out;
}
