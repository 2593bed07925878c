/**
 * One FC instance process: loads one function (its sources or its built bundle, named by LOCAL_INSTANCE_ENTRY)
 * and runs the invocations the gateway sends over the fork channel, one at a time. Before the function loads,
 * the gateway's memory store and budget ledger are put where lib/ looks for a host's shared ones, as proxies over
 * the channel (one per key in LOCAL_SHARED_OBJECTS), so every instance sees the same records without Redis. Started only by local/instances/instance.ts.
 */
import type { FcContext } from '../../lib/fc.js';
import { END_MARK, errorOf, SHARED_OBJECTS_ENV, type FromInstance, type ToInstance } from './protocol.js';
import { createSharedClient } from './shared-proxy.js';

type Handler = (event: Buffer, context: FcContext) => Promise<unknown>;

const channel = process.send?.bind(process);
if (!channel) {
  process.stderr.write('local/instances/runner.ts is started by the local gateway, with a fork channel\n');
  process.exit(2);
}
const send = (message: FromInstance) => {
  channel(message);
};

const shared = createSharedClient(send);
const keys = JSON.parse(process.env[SHARED_OBJECTS_ENV] ?? '[]') as string[];
for (const key of keys) Object.assign(globalThis, { [Symbol.for(key)]: shared.handle(key) });
// The gateway is gone (stopped, or killed): an instance never outlives it.
process.on('disconnect', () => {
  shared.failAll();
  process.exit(0);
});

/** The invocation's last line is in the pipe before its result leaves: the gateway cuts its log there. */
const endOfLog = (id: number) =>
  new Promise<void>((resolve) => process.stdout.write(`${END_MARK}${id}\n`, () => resolve()));

async function run(handler: Handler, message: Extract<ToInstance, { type: 'invoke' }>): Promise<void> {
  let outcome: FromInstance;
  try {
    const value = await handler(Buffer.from(message.event), message.context);
    outcome = { type: 'result', id: message.id, ok: true, value };
  } catch (err) {
    outcome = { type: 'result', id: message.id, ok: false, error: errorOf(err) };
  }
  await endOfLog(message.id);
  try {
    send(outcome);
  } catch (err) {
    // A result the channel cannot carry (not structured-cloneable) is the function's error, as FC's would be.
    send({ type: 'result', id: message.id, ok: false, error: errorOf(err) });
  }
}

let handler: Handler | undefined;
// Listening before the function loads: its module may reach the shared store while it initialises.
process.on('message', (message: ToInstance) => {
  if (message.type === 'shared-reply') shared.settle(message);
  else if (message.type === 'invoke' && handler) void run(handler, message);
});

async function main(): Promise<void> {
  const entry = process.env['LOCAL_INSTANCE_ENTRY'] ?? '';
  try {
    const mod = (await import(entry)) as { handler?: unknown };
    if (typeof mod.handler !== 'function') throw new TypeError(`${entry} exports no handler function`);
    handler = mod.handler as Handler;
  } catch (err) {
    // The gateway answers the waiting invocation and kills this process.
    send({ type: 'init-failed', error: errorOf(err) });
    return;
  }
  send({ type: 'ready' });
}

void main();
