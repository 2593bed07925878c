import type { Redis } from 'ioredis';
import { StoreError } from '../idempotency/types.js';

export type RedisClient = Redis;

export interface RedisOptions {
  commandTimeoutMs?: number;
}

/**
 * What an ioredis error may say without leaking: its own words, never a URL with credentials, nor the arguments
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

/** ioredis is loaded here, on first use, so functions on the memory store never pay for it at cold start. */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<RedisClient> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  client.on('error', () => {
    // Connection errors surface on the commands that need the connection (as StoreError); nothing to do here.
  });
  return client;
}
