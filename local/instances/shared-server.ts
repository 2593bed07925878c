import { errorOf, type FromInstance, type SharedTarget, type ToInstance } from './protocol.js';

type Call = Extract<FromInstance, { type: 'shared-call' }>;
type Reply = Extract<ToInstance, { type: 'shared-reply' }>;

const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> =>
  typeof v === 'object' && v !== null && Symbol.asyncIterator in v && !(v instanceof Promise);

/**
 * The gateway's side of the instances' shared objects: runs the named method on the gateway's own object and
 * answers with its result (an async iterable's items, collected). Each method of the memory store and ledger is
 * atomic in this one process, so instances see them exactly as functions sharing a process did.
 */
export function createSharedServer(targets: Record<SharedTarget, object>) {
  return async (message: Call): Promise<Reply> => {
    const reply = (value: unknown, iterable: boolean): Reply => ({
      type: 'shared-reply',
      call: message.call,
      ok: true,
      value,
      iterable,
    });
    try {
      const target = targets[message.target] as Record<string, unknown> | undefined;
      const method = target?.[message.method];
      // Only the object's own interface: a name from its prototype chain (constructor, __proto__) is not a method.
      if (typeof method !== 'function' || !Object.prototype.hasOwnProperty.call(target, message.method)) {
        throw new TypeError(`${message.target}.${message.method} is not a method of the shared ${message.target}`);
      }
      const result: unknown = method.apply(target, message.args);
      if (isAsyncIterable(result)) {
        const items: unknown[] = [];
        for await (const item of result) items.push(item);
        return reply(items, true);
      }
      return reply(await result, false);
    } catch (err) {
      return { type: 'shared-reply', call: message.call, ok: false, error: errorOf(err) };
    }
  };
}

export type SharedServer = ReturnType<typeof createSharedServer>;
