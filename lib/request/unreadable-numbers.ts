import { UnreadableNumber } from '../json.js';
import { messageFor } from '../schema/messages.js';
import type { FieldErrors } from './field-errors.js';
import { lastSegment, pointer } from './pointer.js';

const PRECISION =
  'is a JSON number that cannot be read exactly (integers above 2^53-1 lose digits); send ids as a string of digits';

/**
 * Every number the exact parser could not take as it stands, with the path that holds it, into `sink`. The value
 * itself is never quoted: it may be a uid. The walk builds a path only where it finds one, and does not enter
 * `unchecked` (a recipient list refused for its length, whose entries are not judged).
 */
export function unreadableNumbers(value: unknown, base: string, sink: FieldErrors, unchecked?: unknown): void {
  const segments: Array<string | number> = [];
  const walk = (v: unknown): void => {
    if (v instanceof UnreadableNumber) {
      if (sink.full) return sink.addUnlisted(1);
      const path = pointer(base, ...segments);
      sink.add(path, messageOf(v, path));
    } else if (v === unchecked) {
      return;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        segments.push(i);
        walk(v[i]);
        segments.pop();
      }
    } else if (v !== null && typeof v === 'object') {
      for (const k in v) {
        segments.push(k);
        walk((v as Record<string, unknown>)[k]);
        segments.pop();
      }
    }
  };
  walk(value);
}

function messageOf(value: UnreadableNumber, path: string): string {
  if (value.reason === 'precision') return PRECISION;
  return lastSegment(path) === 'amount'
    ? 'must have at most 2 decimal places'
    : (messageFor(path, false) ?? 'is not a number this API accepts');
}
