import { guarded, type RedisClient } from '../redis/connect.js';
import type { QuotaBackend } from './backend.js';
import type { QuotaSettings } from './gcra.js';
import { RESERVE, THROTTLED } from './lua.js';

/** A seller's schedule outlives any wait by far, and is forgotten once it can hold nothing but the defaults. */
const STATE_TTL_MS = 600_000;

const text = (v: unknown) => (typeof v === 'string' ? Number(v) : NaN);

/** The quota every instance shares: one Redis hash per seller, each step one script on the Redis clock. */
export function redisQuota(client: RedisClient, settings: QuotaSettings, prefix = 'coupon:quota:'): QuotaBackend {
  const reserveScript = client.script(RESERVE);
  const throttledScript = client.script(THROTTLED);
  const common = [String(settings.qps)];
  return {
    settings,
    reserve: (key, request) =>
      guarded('quota', async () => {
        const reply = await reserveScript(
          [prefix + key],
          [
            ...common,
            String(settings.burst),
            String(settings.bulkShare),
            request.lane,
            String(Math.max(0, Math.floor(request.maxWaitUs))),
            String(request.ticket),
            String(STATE_TTL_MS),
          ],
        );
        const [granted, us, ticket, generation] = Array.isArray(reply) ? reply.map(text) : [];
        if (
          us === undefined ||
          ticket === undefined ||
          generation === undefined ||
          [us, ticket, generation].some(Number.isNaN)
        )
          throw new Error('the quota script gave an unreadable answer');
        return granted === 1
          ? { granted: true, waitUs: us, generation }
          : { granted: false, retryAfterUs: us, ticket, generation };
      }),
    throttled: (key, generation, retryAfterUs) =>
      guarded('quota', async () => {
        const reply = await throttledScript(
          [prefix + key],
          [
            ...common,
            String(generation),
            String(Math.max(0, Math.round(retryAfterUs))),
            String(STATE_TTL_MS),
            String(settings.burst),
          ],
        );
        const next = text(reply);
        if (Number.isNaN(next)) throw new Error('the quota script gave an unreadable answer');
        return next;
      }),
  };
}
