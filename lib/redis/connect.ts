import { StoreError } from '../idempotency/types.js';
import {
  createRedisClient,
  type CallOptions,
  type RedisClient,
  type RedisOptions,
  type ScriptRunner,
} from './client.js';

export type { CallOptions, RedisClient, RedisOptions, ScriptRunner };

/**
 * What a Redis error may say without leaking: its own words, never a URL with credentials, nor the arguments
 * of a command (they may hold uids), at most 200 characters.
 */
export function safeRedisMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .replace(/rediss?:\/\/[^\s'"]*/gi, 'redis://…')
    .replace(/(command|args?|arguments?)[:=]?\s*\[[^\]]*\]/gi, '$1 […]')
    .replace(/\d{8,}/g, '…')
    .slice(0, 200);
}

/** Any failure of a store command becomes a StoreError that says what failed and never what it was given. */
export async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new StoreError(`redis ${what} failed: ${safeRedisMessage(err)}`, { cause: err });
  }
}

/** Connects (in the background: the first command waits for it) to the Redis the URL names. */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<RedisClient> {
  return createRedisClient(url, options);
}
