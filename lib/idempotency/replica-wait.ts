import type { RedisClient } from '../redis/connect.js';

/** `IDEMPOTENCY_REDIS_WAIT_REPLICAS` / `_TIMEOUT_MS`: how many replicas must hold a write before it counts. */
export interface ReplicaWait {
  replicas: number;
  timeoutMs: number;
}

export const NO_REPLICA_WAIT: ReplicaWait = { replicas: 0, timeoutMs: 0 };

/**
 * For deployments that fail over to a replica: waits (Redis `WAIT`) until enough replicas hold every write this
 * connection has made, and throws when they do not in time. A write a failover could lose is then treated as
 * not written, so nothing is sent on the strength of it.
 */
export async function replicated(client: RedisClient, wait: ReplicaWait): Promise<void> {
  if (wait.replicas <= 0) return;
  const acked = Number(await client.call('WAIT', String(wait.replicas), String(wait.timeoutMs)));
  if (!(acked >= wait.replicas)) {
    throw new Error(
      `only ${acked} of ${wait.replicas} replica(s) acknowledged the write within ${wait.timeoutMs} ms (IDEMPOTENCY_REDIS_WAIT_REPLICAS)`,
    );
  }
}
