import type { FromInstance, SharedTarget, ToInstance } from './protocol.js';

type Send = (message: FromInstance) => void;
type Reply = Extract<ToInstance, { type: 'shared-reply' }>;

/** Names a caller may probe an object for without meaning a call (`await x`, JSON, inspection). */
const NOT_METHODS = new Set(['then', 'catch', 'finally', 'toJSON', 'constructor', 'inspect']);

/**
 * An instance's handle on one of the gateway's shared objects (the memory idempotency store, the budget ledger).
 * Every method is forwarded by name with its arguments and answered by the gateway, so methods added to those
 * interfaces later work unchanged. A method whose gateway result is an async iterable (`list()`) gives back a
 * value that is both awaitable and `for await`-able. `close()` stays here: the store is the gateway's, and one
 * instance closing its handle must not empty it for every other.
 */
export function createSharedClient(send: Send) {
  let next = 0;
  const pending = new Map<number, (reply: Reply) => void>();

  const call = (target: SharedTarget, method: string, args: unknown[]) => {
    const id = ++next;
    const answer = new Promise<{ value: unknown; iterable: boolean }>((resolve, reject) => {
      pending.set(id, (reply: Reply) => {
        if (reply.ok) return resolve({ value: reply.value, iterable: reply.iterable });
        const err = new Error(reply.error.errorMessage);
        err.name = reply.error.errorType;
        reject(err);
      });
      try {
        send({ type: 'shared-call', call: id, target, method, args });
      } catch (err) {
        pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    const value = answer.then((a) => a.value);
    // Unused by plain calls; it keeps a rejection seen through the iterator from also being reported unhandled.
    value.catch(() => undefined);
    return Object.assign(value, {
      async *[Symbol.asyncIterator]() {
        const { value: items, iterable } = await answer;
        if (!iterable || !Array.isArray(items)) throw new TypeError(`${target}.${method}() is not iterable`);
        yield* items;
      },
    });
  };

  const handle = <T extends object>(target: SharedTarget): T =>
    new Proxy({} as T, {
      get(_, prop) {
        if (typeof prop === 'symbol' || NOT_METHODS.has(prop)) return undefined;
        if (prop === 'close') return async () => undefined;
        return (...args: unknown[]) => call(target, prop, args);
      },
    });

  return {
    handle,
    /** The gateway's answer to one call. */
    settle(reply: Reply): void {
      const resolve = pending.get(reply.call);
      pending.delete(reply.call);
      resolve?.(reply);
    },
    /** The channel is gone: every call still waiting fails (the instance is about to exit). */
    failAll(): void {
      for (const [id, resolve] of pending) {
        pending.delete(id);
        resolve({
          type: 'shared-reply',
          call: id,
          ok: false,
          error: { errorMessage: 'the gateway is gone', errorType: 'Error' },
        });
      }
    },
  };
}
