/** Where a redis:// or rediss:// URL points, and how to log in there. */
export interface RedisEndpoint {
  host: string;
  port: number;
  secure: boolean;
  username?: string;
  password?: string;
  db: number;
}

/** A Redis URL this client cannot use; the message never repeats the URL (it may hold a password). */
export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

/**
 * Reads `redis[s]://[user[:password]@]host[:port][/db]`. The database must be a whole number (a path of `/abc`
 * would otherwise quietly mean database 0, and records would land where no other instance looks); whether the
 * server has that database is known only when it answers SELECT.
 */
export function parseRedisUrl(url: string): RedisEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError('the Redis URL is not a URL (expected redis://host:6379/0 or rediss://…)');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new RedisUrlError(`the Redis URL must start with redis:// or rediss://, not ${u.protocol}//`);
  if (u.hostname === '') throw new RedisUrlError('the Redis URL names no host');
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,9}$/.test(path))
    throw new RedisUrlError('the database in the Redis URL (its path) must be a whole number such as /0');
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
    secure: u.protocol === 'rediss:',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: path === '' ? 0 : Number(path),
  };
}
