import { AppError } from '../errors.js';
import { decodeUtf8, JsonSyntaxError, parseJsonExact } from '../json.js';
import { quote } from '../redact.js';

/** Bytes as UTF-8 text, or a 400 naming `what`: invalid bytes are refused, never replaced. */
export function utf8Text(bytes: Uint8Array, what: string, path = ''): string {
  const text = decodeUtf8(bytes);
  if (text === undefined) {
    throw new AppError(400, 'InvalidEncoding', `${what} is not valid UTF-8.`, {
      errors: [{ path, message: 'is not valid UTF-8' }],
    });
  }
  return text;
}

/**
 * The most JSON values (numbers, strings, literals, arrays, objects) a payload may hold. Parsing costs 25 to 100
 * bytes of memory per value however short its text (the exact parser's placeholders cost the most), so 32 MB of
 * `0,0,0,…` (16 million values) would need over half a gigabyte before any rule could refuse it. A million is
 * three times the largest request MAX_RECIPIENTS allows (100,000 recipients of three values), and parses within
 * about 100 MB whatever the values are.
 */
export const MAX_JSON_VALUES = 1_000_000;

/** Counts the values of a JSON text without parsing it: every value but the first follows a `,` or opens a container. */
function valueCountOver(text: string, limit: number): boolean {
  let values = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x2c || c === 0x5b || c === 0x7b) {
      if (++values > limit) return true;
    }
  }
  return false;
}

/** Refuses (413) a text holding more than MAX_JSON_VALUES values, before any memory is spent parsing it. */
export function refuseOverfullJson(text: string, what: string, path = ''): void {
  if (!valueCountOver(text, MAX_JSON_VALUES)) return;
  const message = `holds more than ${MAX_JSON_VALUES} JSON values; it is refused without being read`;
  throw new AppError(413, 'PayloadTooLarge', `${what} ${message}.`, { errors: [{ path, message }] });
}

/** JSON read exactly (lib/json.ts), or a 400 `InvalidJson` naming `what` and the pointer that held the text. */
export function exactJson(text: string, what: string, path = ''): unknown {
  refuseOverfullJson(text, what, path);
  try {
    return parseJsonExact(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    const detail = quote(err.message);
    throw new AppError(400, 'InvalidJson', `${what} is not valid JSON: ${detail}.`, {
      errors: [{ path, message: `invalid JSON: ${detail}` }],
    });
  }
}
