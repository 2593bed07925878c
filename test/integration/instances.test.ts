/**
 * FC's instance model in the local stack: each invocation runs in an instance process, one at a time; instances
 * scale out, freeze between invocations, are reclaimed when idle, killed past their timeout, and answered as FC
 * answers when one dies. The memory store is the gateway's, shared by every instance.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/manifest.js';
import { cloudEvent } from '../fixtures/requests.js';
import {
  call,
  fault,
  instances,
  invoke,
  ledger,
  postJson,
  procState,
  rid,
  startStack,
  type Answer,
  type Stack,
} from '../helpers/stack.js';

const request = (requestId: string, uids: Array<number | string>, amount = 1) => ({
  SellerId: 3944837183,
  TemplateId: 295873,
  FromApp: 'instances',
  RequestId: requestId,
  userAmountModelList: uids.map((uid) => ({ uid, amount })),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const alive = (pid: number) => {
  const state = procState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const busyInstance = (stack: Stack, fn: string) =>
  until(`a busy ${fn} instance`, async () => (await instances(stack, fn)).find((i) => i.state === 'busy'));

const issuedFor = async (stack: Stack, id: string) => (await ledger(stack)).filter((c) => c.requestId.startsWith(id));

/** Resends `body` while the dead delivery's lease still holds the operation (409), as a caller would. */
async function redeliver(stack: Stack, body: unknown): Promise<Answer> {
  let answer = await postJson(`${stack.gateway}/coupons`, body);
  for (let i = 0; i < 60 && answer.status === 409; i++) {
    await sleep(250);
    answer = await postJson(`${stack.gateway}/coupons`, body);
  }
  return answer;
}

describe('instance processes (the default)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ EMULATOR_LATENCY_MS: '300', UPSTREAM_TIMEOUT_MS: '1500' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('starts one frozen instance of every function before it says ready, with FC’s environment', async () => {
    const listed = await instances(stack);
    expect(listed.map((i) => i.function).sort()).toEqual(Object.keys(FUNCTIONS).sort());
    for (const i of listed) {
      expect(i).toMatchObject({ state: 'frozen', invocations: 0 });
      await until('SIGSTOP to take effect', async () => (procState(i.pid) === 'T' ? true : undefined), 2_000);
    }
    const http = listed.find((i) => i.function === 'coupon-http');
    const env = Object.fromEntries(
      readFileSync(`/proc/${http?.pid}/environ`, 'utf8')
        .split('\0')
        .filter((kv) => kv.startsWith('FC_'))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    expect(env).toMatchObject({
      FC_FUNCTION_NAME: 'coupon-http',
      FC_FUNCTION_HANDLER: 'index.handler',
      FC_FUNCTION_MEMORY_SIZE: '256',
      FC_REGION: 'cn-hangzhou',
      FC_ACCOUNT_ID: '1234567890123456',
    });
    expect(env['FC_INSTANCE_ID']).toMatch(/^c-[0-9a-f]{24}$/);
  });

  it('serves 20 concurrent sends on several instance processes, each coupon issued once', async () => {
    const base = rid('burst');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) => postJson(`${stack.gateway}/coupons`, request(`${base}-${n}`, [7000 + n]))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.every((a) => a.json.Success === true)).toBe(true);
    const issued = await issuedFor(stack, base);
    expect(issued.map((c) => c.requestId).sort()).toEqual(Array.from({ length: 20 }, (_, n) => `${base}-${n}`).sort());
    const http = await instances(stack, 'coupon-http');
    expect(new Set(http.map((i) => i.pid)).size).toBeGreaterThan(1);
    expect(http.length).toBeLessThanOrEqual(8);
    expect(http.reduce((sum, i) => sum + i.invocations, 0)).toBe(20);
    expect(stack.logs.some((l) => l.includes('"msg":"cold start"') && l.includes('"durationMs"'))).toBe(true);
  });

  it('shares one store between instances: the same RequestId sent 6 times at once issues one coupon', async () => {
    const id = rid('dup');
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => postJson(`${stack.gateway}/coupons`, request(id, [7100]))),
    );
    expect(answers.every((a) => a.status === 200 || a.status === 409)).toBe(true);
    expect(answers.some((a) => a.status === 200)).toBe(true);
    expect(await issuedFor(stack, id)).toHaveLength(1);
  });

  it('freezes an instance between invocations (SIGSTOP) and thaws it for the next one', async () => {
    // SIGSTOP takes effect when the kernel next schedules the process: on a loaded machine, a moment later.
    const stopped = async (pid: number) => {
      for (let i = 0; i < 50 && procState(pid) !== 'T'; i++) await new Promise((r) => setTimeout(r, 20));
      return procState(pid);
    };
    const before = await instances(stack, 'coupon-event');
    expect(before.length).toBeGreaterThan(0);
    for (const i of before) expect([i.state, await stopped(i.pid)]).toEqual(['frozen', 'T']);
    const answer = await invoke(stack, 'coupon-event', cloudEvent(rid('thaw'), request(rid('thaw'), [7200])));
    expect(answer.json).toMatchObject({ Success: true });
    const after = await instances(stack, 'coupon-event');
    expect(after.reduce((s, i) => s + i.invocations, 0)).toBe(before.reduce((s, i) => s + i.invocations, 0) + 1);
    for (const i of after) expect([i.state, await stopped(i.pid)]).toEqual(['frozen', 'T']);
    // As FC does, the answer names the instance that ran it: the one whose FC_INSTANCE_ID it is.
    const served = after.find((i) => i.invocations > (before.find((b) => b.pid === i.pid)?.invocations ?? 0));
    expect(readFileSync(`/proc/${served?.pid}/environ`, 'utf8').split('\0')).toContain(
      `FC_INSTANCE_ID=${answer.headers.get('x-fc-instance-id')}`,
    );
  });

  it('answers a sync invocation whose instance is killed mid-send as FC does; the redelivery never re-sends', async () => {
    const id = rid('killed');
    const body = request(id, [7300]);
    // The emulator issues the coupon and holds the answer: the instance dies after the coupon exists, unaware.
    await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 10_000 });
    const pending = postJson(`${stack.gateway}/coupons`, body);
    const busy = await busyInstance(stack, 'coupon-http');
    await until('the coupon to be issued', async () => ((await issuedFor(stack, id)).length > 0 ? true : undefined));
    process.kill(busy.pid, 'SIGKILL');
    const answer = await pending;
    expect(answer.status).toBe(502);
    expect(answer.headers.get('x-fc-error-type')).toBe('UnhandledInvocationError');
    expect(answer.json.errorMessage).toMatch(/^Process exited unexpectedly before completing request/);
    await until('the killed instance to leave the list', async () =>
      (await instances(stack)).some((i) => i.pid === busy.pid) ? undefined : true,
    );

    const again = await redeliver(stack, body);
    expect(again.status).toBe(200);
    const status = again.json.userAmountModelList[0].status as string;
    expect(['SENT', 'UNKNOWN']).toContain(status);
    // The emulator does not deduplicate: a second SendCoupon would be a second coupon.
    expect(await issuedFor(stack, id)).toHaveLength(1);
    const replay = await postJson(`${stack.gateway}/coupons`, body);
    expect(replay.json.userAmountModelList[0].status).toBe(status);
    expect(await issuedFor(stack, id)).toHaveLength(1);
  });

  it('retries an async invocation whose instance is killed mid-send on another instance, never issuing twice', async () => {
    const id = rid('async-killed');
    const { RequestId: _unused, ...data } = request('unused', [7400]);
    await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 10_000 });
    const accepted = await invoke(stack, 'coupon-event', cloudEvent(id, data), 'Async');
    expect(accepted.status).toBe(202);
    const busy = await busyInstance(stack, 'coupon-event');
    const issued = async () => (await ledger(stack)).filter((c) => c.requestId.includes(id));
    await until('the coupon to be issued', async () => ((await issued()).length > 0 ? true : undefined));
    process.kill(busy.pid, 'SIGKILL');
    const fcId = accepted.headers.get('x-fc-request-id');
    const record = await until('the async invocation to end', async () => {
      const r = (await call(`${stack.gateway}/__gateway/invocations/${fcId}`)).json;
      return r.status === 'running' ? undefined : r;
    });
    expect(record.attempts).toBeGreaterThan(1);
    expect(record.error?.errorMessage ?? '').not.toMatch(/Process exited/);
    expect(await issued()).toHaveLength(1);
  });

  it('leaves no instance process behind when the stack stops', async () => {
    const pids = (await instances(stack)).map((i) => i.pid);
    expect(pids.length).toBeGreaterThan(0);
    expect(await stack.stop()).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  });
});

describe('instance limits, timeouts and reclaim', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      EMULATOR_LATENCY_MS: '400',
      LOCAL_MAX_INSTANCES: '1',
      LOCAL_INSTANCE_IDLE_SECONDS: '2',
      FUNCTION_TIMEOUT_SECONDS: '4',
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('makes requests beyond LOCAL_MAX_INSTANCES wait for the one instance, then serves them all', async () => {
    const base = rid('wait');
    const answers = await Promise.all(
      [0, 1, 2].map((n) => invoke(stack, 'coupon-event', cloudEvent(`${base}-${n}`, request(`${base}-${n}`, [n + 1])))),
    );
    expect(answers.map((a) => a.json.Success)).toEqual([true, true, true]);
    const event = await instances(stack, 'coupon-event');
    expect(event).toHaveLength(1);
    expect(event[0]?.invocations).toBeGreaterThanOrEqual(3);
  });

  it('kills an instance that runs past the function timeout and answers with FC’s timeout error', async () => {
    const id = rid('hang');
    const pending = invoke(stack, 'coupon-event', cloudEvent(id, request(id, [7500])));
    const busy = await busyInstance(stack, 'coupon-event');
    // A hung instance: stopped mid-invocation, it can never answer.
    process.kill(busy.pid, 'SIGSTOP');
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-fc-error-type')).toBe('UnhandledInvocationError');
    expect(answer.json.errorMessage).toBe('Function timed out after 4 seconds');
    await until('the timed-out instance to die and leave the list', async () =>
      alive(busy.pid) || (await instances(stack)).some((i) => i.pid === busy.pid) ? undefined : true,
    );
  });

  it('reclaims an instance idle for LOCAL_INSTANCE_IDLE_SECONDS, and cold-starts a new one when needed', async () => {
    const id = rid('idle');
    await invoke(stack, 'coupon-event', cloudEvent(id, request(id, [7600])));
    const [used] = await instances(stack, 'coupon-event');
    expect(used?.state).toBe('frozen');
    await until('the idle instance to be reclaimed', async () =>
      (await instances(stack, 'coupon-event')).length === 0 && !alive(used?.pid ?? 0) ? true : undefined,
    );
    const next = rid('idle');
    expect((await invoke(stack, 'coupon-event', cloudEvent(next, request(next, [7601])))).json.Success).toBe(true);
    const [fresh] = await instances(stack, 'coupon-event');
    expect(fresh?.pid).not.toBe(used?.pid);
  });
});

describe('LOCAL_INSTANCE_OVERFLOW=reject', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      EMULATOR_LATENCY_MS: '1000',
      LOCAL_MAX_INSTANCES: '1',
      LOCAL_INSTANCE_OVERFLOW: 'reject',
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers a request that finds every instance busy with FC’s 429 ResourceThrottled', async () => {
    const first = rid('busy');
    const pending = invoke(stack, 'coupon-event', cloudEvent(first, request(first, [7700])));
    await busyInstance(stack, 'coupon-event');
    const second = rid('refused');
    const refused = await invoke(stack, 'coupon-event', cloudEvent(second, request(second, [7701])));
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ Code: 'ResourceThrottled', RequestId: expect.stringMatching(/^1-/) });
    expect(refused.headers.get('x-fc-request-id')).toBe(refused.json.RequestId);
    expect((await pending).json.Success).toBe(true);
    expect(await issuedFor(stack, second)).toEqual([]);
  });

  it('leaves no instance behind when the stack itself is killed (SIGKILL), frozen ones included', async () => {
    const pids = (await instances(stack)).map((i) => i.pid);
    expect(pids.some((pid) => procState(pid) === 'T')).toBe(true);
    await stack.kill();
    await until('every instance to exit', async () => (pids.some(alive) ? undefined : true), 5_000);
  });
});

describe('LOCAL_INSTANCES=inline', () => {
  it('runs the functions in the gateway’s process: no instances, the same answers', async () => {
    const stack = await startStack({ LOCAL_INSTANCES: 'inline' });
    try {
      const id = rid('inline');
      const answer = await postJson(`${stack.gateway}/coupons`, request(id, [7800]));
      expect(answer.json.Success).toBe(true);
      expect(await instances(stack)).toEqual([]);
      expect(existsSync(`/proc/${stack.process.pid}`)).toBe(true);
    } finally {
      await stack.stop();
    }
  });
});

describe('instance settings', () => {
  it.each([
    ['LOCAL_INSTANCES', 'threads', 'LOCAL_INSTANCES must be "processes"'],
    ['LOCAL_MAX_INSTANCES', '0', 'LOCAL_MAX_INSTANCES must be a whole number >= 1'],
    ['LOCAL_MAX_INSTANCES', '2.5', 'LOCAL_MAX_INSTANCES must be a whole number >= 1'],
    ['LOCAL_INSTANCE_OVERFLOW', 'drop', 'LOCAL_INSTANCE_OVERFLOW must be "wait" or "reject"'],
    ['LOCAL_INSTANCE_IDLE_SECONDS', 'soon', 'LOCAL_INSTANCE_IDLE_SECONDS must be a number >= 0'],
    ['FUNCTION_TIMEOUT_SECONDS', '0', 'FUNCTION_TIMEOUT_SECONDS must be a number > 0'],
  ])('refuses %s=%s at start, naming it', async (name, value, message) => {
    await expect(startStack({ [name]: value })).rejects.toThrow(message);
  });
});
