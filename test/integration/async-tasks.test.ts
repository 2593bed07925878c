import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import * as fc from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import OSS from 'ali-oss';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from '../../local/emulator/defaults.js';
import { cloudEvent } from '../fixtures/requests.js';
import { call, emulatorStats, fault, instances, ledger, reset, rid, startStack, type Stack } from '../helpers/stack.js';

// The FC 3.0 SDK, an FC client nobody here wrote. It is CommonJS: its client class is `exports.default`.
const FcClient = (createRequire(import.meta.url)('@alicloud/fc20230330') as { default: typeof fc.default.default })
  .default;

const RETRY_DELAY_MS = 300;
const FAILURES = 'acs:mns:cn-hangzhou:1234567890123456:/queues/coupon-failures/messages';

let stack: Stack;
let client: InstanceType<typeof FcClient>;
beforeAll(async () => {
  stack = await startStack({
    ASYNC_RETRY_DELAY_MS: String(RETRY_DELAY_MS),
    UPSTREAM_MAX_ATTEMPTS: '1',
    // A killed delivery's lease runs out about 6 s after its last write: a retry after that takes it over.
    UPSTREAM_TIMEOUT_MS: '1000',
  });
  client = new FcClient(
    new $OpenApiUtil.Config({
      accessKeyId: DEFAULT_EMULATOR_KEY_ID,
      accessKeySecret: DEFAULT_EMULATOR_KEY_SECRET,
      // The SDK would build <accountId>.<region>.fc.aliyuncs.com; the gateway is named explicitly.
      endpoint: new URL(stack.gateway).host,
      protocol: 'http',
      regionId: 'cn-hangzhou',
    }),
  );
});
afterAll(async () => {
  const { exitCode, signalCode } = stack.process;
  await stack.stop();
  // A stack that died mid-file fails every later test with ECONNREFUSED; say how it ended instead.
  if (exitCode !== null || signalCode !== null)
    throw new Error(`the stack ended early (${exitCode ?? signalCode}):\n${stack.logs.slice(-40).join('\n')}`);
});
afterEach(async () => {
  // Back to s.yaml's configuration and an emulator without faults.
  await client.putAsyncInvokeConfig(
    'coupon-event',
    new fc.PutAsyncInvokeConfigRequest({
      body: new fc.PutAsyncInvokeConfigInput({ maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 86400 }),
    }),
  );
  await reset(stack);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const sendEvent = (id: string, uid: number) =>
  JSON.stringify(
    cloudEvent(id, {
      SellerId: 3944837183,
      TemplateId: 295873,
      FromApp: 'fc3',
      userAmountModelList: [{ uid, amount: 1 }],
    }),
  );

const submit = (taskId: string, body: string) =>
  client.invokeFunctionWithOptions(
    'coupon-event',
    new fc.InvokeFunctionRequest({ body: Readable.from([Buffer.from(body)]) }),
    new fc.InvokeFunctionHeaders({ xFcInvocationType: 'Async', xFcAsyncTaskId: taskId }),
    new RuntimeOptions({}),
  );

const task = async (taskId: string) =>
  (await client.getAsyncTask('coupon-event', taskId, new fc.GetAsyncTaskRequest({}))).body as fc.AsyncTask;

const finished = (taskId: string) =>
  until(`task ${taskId} to end`, async () => {
    const t = await task(taskId);
    return ['Succeeded', 'Failed', 'Stopped', 'Expired'].includes(t.status ?? '') ? t : undefined;
  });

const failureOf = async (run: () => Promise<unknown>) => {
  try {
    await run();
  } catch (err) {
    return err as { statusCode?: number; code?: string; message?: string };
  }
  throw new Error('the call succeeded');
};

const issuedFor = async (id: string) => (await ledger(stack)).filter((c) => c.requestId.includes(id));

const useConfig = (input: Record<string, unknown>) =>
  client.putAsyncInvokeConfig(
    'coupon-event',
    new fc.PutAsyncInvokeConfigRequest({ body: new fc.PutAsyncInvokeConfigInput(input) }),
  );

/** Times (ms) at which each attempt started, from the task's events. */
const attemptTimes = (t: fc.AsyncTask) =>
  (t.events ?? []).filter((e) => e.status === 'Running').map((e) => e.timestamp ?? 0);

describe('FC 3.0 asynchronous tasks on the gateway, through @alicloud/fc20230330', () => {
  it('runs an async invocation with a task id once, and refuses the same id again with 409', async () => {
    const taskId = rid('once');
    const accepted = await submit(taskId, sendEvent(taskId, 7001));
    expect(accepted.statusCode).toBe(202);
    expect(accepted.headers?.['x-fc-async-task-id']).toBe(taskId);
    const done = await finished(taskId);
    expect(done).toMatchObject({
      taskId,
      status: 'Succeeded',
      alreadyRetriedTimes: 0,
      functionArn: 'acs:fc:cn-hangzhou:1234567890123456:functions/coupon-event',
      taskPayload: sendEvent(taskId, 7001),
    });
    expect(JSON.parse(done.returnPayload ?? '')).toMatchObject({
      userAmountModelList: [{ uid: 7001, status: 'SENT' }],
    });
    expect((done.events ?? []).map((e) => e.status)).toEqual(['Enqueued', 'Running', 'Succeeded']);

    const again = await failureOf(() => submit(taskId, sendEvent(taskId, 7001)));
    expect(again).toMatchObject({ statusCode: 409, code: 'AsyncTaskAlreadyExists' });
    await sleep(300);
    expect(await issuedFor(taskId)).toHaveLength(1);
    expect((await task(taskId)).events).toHaveLength(3);
  });

  it.each([
    ['starts with a digit', '2026-launch-c1'],
    ['holds a dot', 'campaign.c1'],
    ['is longer than 128 characters', `t${'x'.repeat(128)}`],
  ])('refuses a task id that %s (400), as FC does', async (_why, taskId) => {
    expect(await failureOf(() => submit(taskId, sendEvent(rid('bad-id'), 7002)))).toMatchObject({
      statusCode: 400,
      code: 'InvalidArgument',
    });
  });

  it('reads the function’s async configuration from s.yaml and takes PutAsyncInvokeConfig', async () => {
    const before = (await client.getAsyncInvokeConfig('coupon-event', new fc.GetAsyncInvokeConfigRequest({}))).body;
    expect(before).toMatchObject({ maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 86400 });
    expect(before?.destinationConfig?.onFailure?.destination).toBeTruthy();
    const put = await useConfig({ maxAsyncRetryAttempts: 1, asyncTask: true });
    expect(put.body).toMatchObject({ maxAsyncRetryAttempts: 1, maxAsyncEventAgeInSeconds: 86400, asyncTask: true });
    expect(await failureOf(() => useConfig({ maxAsyncRetryAttempts: 9 }))).toMatchObject({ statusCode: 400 });
  });

  it('retries a failing invocation maxAsyncRetryAttempts times with doubling delays, then hands it to the on-failure destination', async () => {
    await useConfig({ maxAsyncRetryAttempts: 2, destinationConfig: { onFailure: { destination: FAILURES } } });
    // Every SendCoupon is throttled and the function makes one upstream attempt: the recipient stays owed and
    // coupon-event throws so that the platform delivers it again.
    await fault(stack, { mode: 'throttle', count: 1000 });
    const taskId = rid('fails');
    const event = sendEvent(taskId, 7003);
    await submit(taskId, event);
    const done = await finished(taskId);
    expect(done).toMatchObject({ status: 'Failed', alreadyRetriedTimes: 2 });
    expect(done.taskErrorMessage).toBeTruthy();
    const starts = attemptTimes(done);
    expect(starts).toHaveLength(3);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(RETRY_DELAY_MS);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(2 * RETRY_DELAY_MS);
    expect((done.events ?? []).filter((e) => e.status === 'Retrying')).toHaveLength(2);

    const list = (await call(`${stack.gateway}/__gateway/destinations/coupon-event`)).json;
    const records = list.onFailure.records.filter(
      (r: { requestContext: { requestId: string } }) => r.requestContext.requestId === taskId,
    );
    expect(list.onFailure.destination).toBe(FAILURES);
    expect(records).toEqual([
      {
        timestamp: expect.any(Number),
        requestContext: {
          requestId: taskId,
          functionArn: 'acs:fc:cn-hangzhou:1234567890123456:functions/coupon-event',
          condition: 'UnhandledInvocationError',
          approximateInvokeCount: 3,
        },
        requestPayload: event,
        responseContext: { statusCode: 200, functionError: expect.any(String) },
        responsePayload: expect.stringContaining('errorMessage'),
      },
    ]);
    expect(done.destinationStatus).toBe('Succeeded');
  });

  it('drops an event older than maxAsyncEventAgeInSeconds to the destination without running it again', async () => {
    await useConfig({
      maxAsyncRetryAttempts: 8,
      maxAsyncEventAgeInSeconds: 1,
      destinationConfig: { onFailure: { destination: FAILURES } },
    });
    await fault(stack, { mode: 'throttle', count: 1000 });
    const taskId = rid('expires');
    await submit(taskId, sendEvent(taskId, 7004));
    const done = await finished(taskId);
    expect(done.status).toBe('Expired');
    // 300 + 600 ms of waiting passes the 1 s age before the fourth attempt could start.
    expect(attemptTimes(done).length).toBeLessThan(4);
    const list = (await call(`${stack.gateway}/__gateway/destinations/coupon-event`)).json;
    expect(
      list.onFailure.records.find(
        (r: { requestContext: { requestId: string } }) => r.requestContext.requestId === taskId,
      )?.requestContext.condition,
    ).toBe('EventExpired');
  });

  it('stops a task that is waiting to retry: Stopped, and it never runs again', async () => {
    await fault(stack, { mode: 'throttle', count: 1000 });
    const taskId = rid('stop');
    await submit(taskId, sendEvent(taskId, 7005));
    await until('the task to wait for its retry', async () =>
      (await task(taskId)).status === 'Retrying' ? true : undefined,
    );
    const calls = (await emulatorStats(stack))['calls'];
    await client.stopAsyncTask('coupon-event', taskId, new fc.StopAsyncTaskRequest({}));
    expect((await task(taskId)).status).toBe('Stopped');
    await sleep(3 * RETRY_DELAY_MS);
    const after = await task(taskId);
    expect(after).toMatchObject({ status: 'Stopped', alreadyRetriedTimes: 0 });
    expect(attemptTimes(after)).toHaveLength(1);
    expect((await emulatorStats(stack))['calls']).toBe(calls);
    // Stopping it again is answered; stopping a finished task is refused.
    await client.stopAsyncTask('coupon-event', taskId, new fc.StopAsyncTaskRequest({}));
    const doneId = rid('stop-done');
    await reset(stack);
    await submit(doneId, sendEvent(doneId, 7006));
    await finished(doneId);
    expect(
      await failureOf(() => client.stopAsyncTask('coupon-event', doneId, new fc.StopAsyncTaskRequest({}))),
    ).toMatchObject({ statusCode: 400 });
    expect(
      await failureOf(() => client.stopAsyncTask('coupon-event', rid('nope'), new fc.StopAsyncTaskRequest({}))),
    ).toMatchObject({ statusCode: 404 });
  });

  it('lists a function’s tasks by prefix and state, a page at a time', async () => {
    const prefix = `${rid('list')}-`;
    for (const n of [1, 2, 3]) {
      await submit(`${prefix}${n}`, sendEvent(`${prefix}${n}`, 7010 + n));
      await sleep(5);
    }
    for (const n of [1, 2, 3]) await finished(`${prefix}${n}`);
    const page = (nextToken?: string) =>
      client.listAsyncTasks(
        'coupon-event',
        new fc.ListAsyncTasksRequest({ prefix, limit: 2, sortOrderByTime: 'asc', ...(nextToken ? { nextToken } : {}) }),
      );
    const first = (await page()).body;
    expect(first?.tasks?.map((t) => t.taskId)).toEqual([`${prefix}1`, `${prefix}2`]);
    expect(first?.tasks?.[0]?.taskPayload).toBeUndefined();
    const second = (await page(first?.nextToken)).body;
    expect(second?.tasks?.map((t) => t.taskId)).toEqual([`${prefix}3`]);
    expect(second?.nextToken).toBeUndefined();
    const failed = await client.listAsyncTasks(
      'coupon-event',
      new fc.ListAsyncTasksRequest({ prefix, status: 'Failed', includePayload: true }),
    );
    expect(failed.body?.tasks).toEqual([]);
    const newestFirst = await client.listAsyncTasks(
      'coupon-event',
      new fc.ListAsyncTasksRequest({ prefix, includePayload: true }),
    );
    expect(newestFirst.body?.tasks?.map((t) => t.taskId)).toEqual([`${prefix}3`, `${prefix}2`, `${prefix}1`]);
    expect(newestFirst.body?.tasks?.[0]?.taskPayload).toBe(sendEvent(`${prefix}3`, 7013));
    expect(
      await failureOf(() => client.listAsyncTasks('coupon-event', new fc.ListAsyncTasksRequest({ status: 'Done' }))),
    ).toMatchObject({ statusCode: 400 });
  });

  it('retries a task whose instance is killed mid-send on another instance: the kill is an attempt, nothing is issued twice', async () => {
    // Retries at 0.3, 0.9, 2.1, 4.5 and 9.3 s: the last ones come after the dead delivery's lease.
    await useConfig({ maxAsyncRetryAttempts: 5 });
    await fault(stack, { mode: 'timeout-after', count: 1, delayMs: 10_000 });
    const taskId = rid('killed');
    await submit(taskId, sendEvent(taskId, 7020));
    const busy = await until('a busy coupon-event instance', async () =>
      (await instances(stack, 'coupon-event')).find((i) => i.state === 'busy'),
    );
    await until('the coupon to be issued', async () => ((await issuedFor(taskId)).length > 0 ? true : undefined));
    process.kill(busy.pid, 'SIGKILL');
    const done = await finished(taskId);
    expect(done.status).toBe('Succeeded');
    expect(done.alreadyRetriedTimes).toBeGreaterThanOrEqual(1);
    const [crashed, ...later] = (done.events ?? []).filter((e) => e.status === 'Retrying');
    expect(crashed?.eventDetail).toMatch(/^Process exited unexpectedly/);
    // Until the lease runs out, a retry finds the delivery still in progress and leaves it alone.
    for (const e of later) expect(e.eventDetail).toMatch(/not finished \(statuses 409\)/);
    expect(done.instanceId).toBeTruthy();
    expect((await instances(stack)).some((i) => i.pid === busy.pid)).toBe(false);
    expect(await issuedFor(taskId)).toHaveLength(1);
    // The older gateway view of the same invocation still answers.
    expect((await call(`${stack.gateway}/__gateway/invocations/${taskId}`)).json).toMatchObject({
      status: 'succeeded',
      taskStatus: 'Succeeded',
    });
  });
});

describe('with LOCAL_AUTH=function', () => {
  it('takes the FC 3.0 SDK’s signature by the runtime role’s key (a function submitting tasks), and refuses a wrong one', async () => {
    const signed = await startStack({ LOCAL_AUTH: 'function', LOCAL_CALLER_KEYS: 'LTAIcaller:caller-secret' });
    try {
      const as = (accessKeySecret: string) =>
        new FcClient(
          new $OpenApiUtil.Config({
            accessKeyId: DEFAULT_EMULATOR_KEY_ID,
            accessKeySecret,
            endpoint: new URL(signed.gateway).host,
            protocol: 'http',
            regionId: 'cn-hangzhou',
          }),
        );
      const taskId = rid('signed');
      const body = () => new fc.InvokeFunctionRequest({ body: Readable.from([Buffer.from(sendEvent(taskId, 7030))]) });
      const headers = new fc.InvokeFunctionHeaders({ xFcInvocationType: 'Async', xFcAsyncTaskId: taskId });
      expect(
        await failureOf(() =>
          as('wrong').invokeFunctionWithOptions('coupon-event', body(), headers, new RuntimeOptions({})),
        ),
      ).toMatchObject({ statusCode: 403 });
      const ok = await as(DEFAULT_EMULATOR_KEY_SECRET).invokeFunctionWithOptions(
        'coupon-event',
        body(),
        headers,
        new RuntimeOptions({}),
      );
      expect(ok.statusCode).toBe(202);
      const got = await as(DEFAULT_EMULATOR_KEY_SECRET).getAsyncTask(
        'coupon-event',
        taskId,
        new fc.GetAsyncTaskRequest({}),
      );
      expect(got.body?.taskId).toBe(taskId);
    } finally {
      await signed.stop();
    }
  });
});

describe('the bucket in the local stack', () => {
  const ready = () => JSON.parse(stack.logs.find((l) => l.includes('"msg":"ready"')) ?? '{}') as Record<string, string>;

  it('is named in the ready line and reached by ali-oss with the runtime role’s keys: put, then a ranged get', async () => {
    const { OSS_ENDPOINT: endpoint, OSS_BUCKET: bucket, OSS_REGION: region } = ready();
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bucket).toBe('coupon-campaigns');
    const oss = (secret: string) =>
      new OSS({
        endpoint: endpoint!,
        region: region!,
        bucket: bucket!,
        accessKeyId: DEFAULT_EMULATOR_KEY_ID,
        accessKeySecret: secret,
        secure: false,
      });
    const key = `lists/${rid('list')}.csv`;
    await oss(DEFAULT_EMULATOR_KEY_SECRET).put(key, Buffer.from('uid,amount\n1918000000883,8.88\n2,100\n'));
    const { content, res } = await oss(DEFAULT_EMULATOR_KEY_SECRET).get(key, { headers: { Range: 'bytes=11-29' } });
    expect(res.status).toBe(206);
    expect(content.toString()).toBe('1918000000883,8.88\n');
    expect(await failureOf(() => oss('wrong-secret').get(key))).toMatchObject({ status: 403 });
  });

  it('is in every instance’s environment', async () => {
    const { OSS_ENDPOINT: endpoint } = ready();
    const [instance] = await instances(stack, 'coupon-event');
    const env = readFileSync(`/proc/${instance!.pid}/environ`, 'utf8').split('\0');
    expect(env).toEqual(
      expect.arrayContaining([`OSS_ENDPOINT=${endpoint}`, 'OSS_BUCKET=coupon-campaigns', 'OSS_REGION=oss-cn-hangzhou']),
    );
  });
});
