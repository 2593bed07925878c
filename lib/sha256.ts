import crypto from 'node:crypto';

// crypto.hash (Node >= 20.12) digests in one call, without a Hash object: half the cost of createHash for the
// short inputs hashed on every invocation. Older Nodes get the same digest the long way.
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** Lowercase hex SHA-256 of a string (as UTF-8) or of bytes. */
export const sha256Hex: (data: string | Uint8Array) => string = oneShot
  ? (data) => oneShot('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex');
