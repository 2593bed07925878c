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

/** JSON read exactly (lib/json.ts), or a 400 `InvalidJson` naming `what` and the pointer that held the text. */
export function exactJson(text: string, what: string, path = ''): unknown {
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
