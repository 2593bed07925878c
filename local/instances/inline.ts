import type { FcContext } from '../../lib/fc.js';
import type { Invoker } from './invoker.js';
import { errorOf } from './protocol.js';

export type FcFunction = (event: Buffer, context: FcContext) => Promise<unknown>;

/** LOCAL_INSTANCES=inline: every function runs in the gateway's own process, for debugging with one process. */
export function inlineInvoker(functions: Record<string, FcFunction>): Invoker {
  return {
    has: (name) => Object.hasOwn(functions, name),
    async invoke(name, event, context) {
      try {
        const fn = functions[name];
        if (!fn) throw new Error(`no function ${name}`);
        return { kind: 'ok', value: await fn(event, context) };
      } catch (err) {
        return { kind: 'error', error: errorOf(err), cause: 'threw' };
      }
    },
    instances: () => [],
    close: async () => undefined,
  };
}
