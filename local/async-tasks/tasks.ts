import type { FcContext } from '../../lib/fc.js';
import type { InvocationOutcome } from '../instances/invoker.js';
import { DEFAULT_ASYNC_CONFIG, type AsyncInvokeConfig } from './config.js';
import { Destinations, type DestinationKind } from './destinations.js';
import { FcRefusal, invalidArgument } from './refusal.js';
import { isFinal, TASK_STATUSES, taskBody, transition, type Task, type TaskStatus } from './task.js';

export interface AsyncTasksOptions {
  invoke(name: string, event: Buffer, context: FcContext): Promise<InvocationOutcome>;
  contextFor(name: string, requestId: string, retryCount: number): FcContext;
  functionArn(name: string): string;
  /** Each function's configuration as s.yaml deploys it (PutAsyncInvokeConfig replaces it while the stack runs). */
  configs: Record<string, AsyncInvokeConfig>;
  /** The first retry's delay; each later one doubles it. */
  retryDelayMs: number;
  now?: () => number;
  log?: (fields: Record<string, unknown>) => void;
}

/** FC's rule for a caller's task id (x-fc-async-task-id). */
const TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
/** A throttled attempt waits like FC's back-off (0.5 s, 1 s, 2 s … here from the retry delay), up to this. */
const MAX_THROTTLE_WAIT_MS = 8_000;

export interface ListQuery {
  prefix?: string;
  status?: TaskStatus;
  startedTimeBegin?: number;
  startedTimeEnd?: number;
  sortOrderByTime: 'asc' | 'desc';
  limit: number;
  nextToken?: string;
  includePayload: boolean;
}

function serialise(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result instanceof Uint8Array) return Buffer.from(result).toString('utf8');
  return JSON.stringify(result ?? null);
}

/**
 * FC 3.0's asynchronous invocations as tasks: accepted at once (202), run on the function's instances, a failed
 * attempt (thrown, timed out, instance crashed) retried `maxAsyncRetryAttempts` times with a doubling delay on
 * whichever instance is free, an event older than `maxAsyncEventAgeInSeconds` dropped, and what is left handed to
 * the on-failure destination. A caller's task id is refused a second time (409); a stopped task never runs again.
 */
export class AsyncTasks {
  private readonly tasks = new Map<string, Task>();
  private readonly configs = new Map<string, { config: AsyncInvokeConfig; createdTime: string; modified: string }>();
  private readonly warnedNoTaskMode = new Set<string>();
  readonly destinations = new Destinations();
  private readonly now: () => number;
  private readonly log: (fields: Record<string, unknown>) => void;

  constructor(private readonly options: AsyncTasksOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    const at = new Date(this.now()).toISOString();
    for (const [name, config] of Object.entries(options.configs))
      this.configs.set(name, { config, createdTime: at, modified: at });
  }

  config(name: string): AsyncInvokeConfig {
    return this.configs.get(name)?.config ?? DEFAULT_ASYNC_CONFIG;
  }

  configTimes(name: string): { createdTime: string; lastModifiedTime: string } {
    const entry = this.configs.get(name);
    const at = new Date(this.now()).toISOString();
    return { createdTime: entry?.createdTime ?? at, lastModifiedTime: entry?.modified ?? at };
  }

  putConfig(name: string, config: AsyncInvokeConfig): void {
    const at = new Date(this.now()).toISOString();
    this.configs.set(name, { config, createdTime: this.configs.get(name)?.createdTime ?? at, modified: at });
  }

  /**
   * Accepts one asynchronous invocation. `taskId` is the caller's (x-fc-async-task-id), else the request id
   * names the task, as FC does.
   */
  submit(name: string, payload: Buffer, ids: { requestId: string; taskId?: string }): Task {
    const taskId = ids.taskId ?? ids.requestId;
    if (ids.taskId !== undefined) {
      if (!TASK_ID.test(ids.taskId))
        throw invalidArgument(
          'x-fc-async-task-id must start with a letter or an underscore and hold only letters, digits, _ and -, at most 128 characters',
        );
      if (this.tasks.has(ids.taskId))
        throw new FcRefusal(409, 'AsyncTaskAlreadyExists', `async task ${ids.taskId} already exists`);
      if (!this.config(name).asyncTask && !this.warnedNoTaskMode.has(name)) {
        this.warnedNoTaskMode.add(name);
        this.log({
          msg: 'async task id on a function without asyncTask',
          functionName: name,
          hint: 'FC documents that task ids need asyncInvokeConfig.asyncTask: true; without it a deployment may not deduplicate',
        });
      }
    }
    const task: Task = {
      taskId,
      requestId: ids.requestId,
      functionName: name,
      functionArn: this.options.functionArn(name),
      payload,
      status: 'Enqueued',
      startedTime: this.now(),
      alreadyRetriedTimes: 0,
      invocations: 0,
      events: [],
      stopRequested: false,
    };
    transition(task, 'Enqueued', 'accepted', task.startedTime);
    this.tasks.set(taskId, task);
    void this.run(task).catch((err: unknown) => {
      this.log({ msg: 'async task runner failed', taskId, error: err instanceof Error ? err.message : String(err) });
    });
    return task;
  }

  get(name: string, taskId: string): Task {
    const task = this.tasks.get(taskId);
    if (!task || task.functionName !== name)
      throw new FcRefusal(404, 'AsyncTaskNotFound', `async task ${taskId.slice(0, 128)} of ${name} does not exist`);
    return task;
  }

  byId(taskId: string): Task | undefined {
    return this.tasks.get(taskId);
  }

  /**
   * StopAsyncTask. A task waiting for its first attempt or its next retry is Stopped at once and never runs
   * again; a running one is Stopping until its attempt ends (locally the attempt is not interrupted) and then
   * Stopped without a retry, unless that attempt succeeded. Stopping a stopped task is answered again; stopping
   * a finished one is refused.
   */
  stop(name: string, taskId: string): Task {
    const task = this.get(name, taskId);
    if (task.status === 'Stopped' || task.status === 'Stopping') return task;
    if (isFinal(task.status))
      throw invalidArgument(`async task ${taskId} has already ended (${task.status}); only an unfinished one can stop`);
    task.stopRequested = true;
    if (task.status === 'Running') transition(task, 'Stopping', 'StopAsyncTask', this.now());
    else {
      transition(task, 'Stopped', 'StopAsyncTask', this.now());
      task.wake?.();
    }
    return task;
  }

  list(name: string, query: ListQuery): { tasks: Record<string, unknown>[]; nextToken?: string } {
    const after = query.nextToken === undefined ? undefined : decodeToken(query.nextToken);
    const sign = query.sortOrderByTime === 'asc' ? 1 : -1;
    const order = (a: Pick<Task, 'startedTime' | 'taskId'>, b: Pick<Task, 'startedTime' | 'taskId'>) =>
      sign * (a.startedTime - b.startedTime || (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
    const matching = [...this.tasks.values()]
      .filter(
        (t) =>
          t.functionName === name &&
          (query.prefix === undefined || t.taskId.startsWith(query.prefix)) &&
          (query.status === undefined || t.status === query.status) &&
          (query.startedTimeBegin === undefined || t.startedTime >= query.startedTimeBegin) &&
          (query.startedTimeEnd === undefined || t.startedTime <= query.startedTimeEnd),
      )
      .sort(order)
      .filter((t) => after === undefined || order(t, { startedTime: after.t, taskId: after.id }) > 0);
    const page = matching.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      tasks: page.map((t) => taskBody(t, query.includePayload)),
      ...(matching.length > page.length && last ? { nextToken: encodeToken(last) } : {}),
    };
  }

  private async run(task: Task): Promise<void> {
    const { options } = this;
    let throttleWait = Math.max(1, options.retryDelayMs / 2);
    for (;;) {
      if (isFinal(task.status)) return;
      const config = this.config(task.functionName);
      if (this.now() - task.startedTime > config.maxAsyncEventAgeInSeconds * 1000) {
        transition(
          task,
          'Expired',
          `older than maxAsyncEventAgeInSeconds (${config.maxAsyncEventAgeInSeconds})`,
          this.now(),
        );
        this.deliver(task, 'onFailure', 'EventExpired');
        return;
      }
      transition(task, 'Running', `attempt ${task.alreadyRetriedTimes + 1}`, this.now());
      const outcome = await options.invoke(
        task.functionName,
        task.payload,
        options.contextFor(task.functionName, task.requestId, task.alreadyRetriedTimes),
      );
      if (outcome.kind === 'throttled') {
        // FC backs off a throttled invocation without using up a retry.
        if (task.stopRequested) return transition(task, 'Stopped', 'stopped while throttled', this.now());
        transition(task, 'Enqueued', `throttled: ${outcome.message}`, this.now());
        await this.wait(task, throttleWait);
        throttleWait = Math.min(throttleWait * 2, MAX_THROTTLE_WAIT_MS);
        continue;
      }
      task.invocations++;
      if (outcome.instanceId) task.instanceId = outcome.instanceId;
      if (outcome.kind === 'ok') {
        task.result = outcome.value;
        task.returnPayload = serialise(outcome.value);
        transition(task, 'Succeeded', 'the function returned', this.now());
        this.deliver(task, 'onSuccess', '');
        return;
      }
      task.error = outcome.error;
      const retriesLeft = config.maxAsyncRetryAttempts - task.alreadyRetriedTimes;
      this.log({
        msg: 'async invocation failed',
        functionName: task.functionName,
        requestId: task.requestId,
        taskId: task.taskId,
        attempt: task.invocations,
        willRetry: retriesLeft > 0 && !task.stopRequested,
        error: outcome.error.errorMessage,
      });
      if (task.stopRequested) return transition(task, 'Stopped', outcome.error.errorMessage, this.now());
      if (retriesLeft <= 0) {
        transition(task, 'Failed', outcome.error.errorMessage, this.now());
        this.deliver(task, 'onFailure', 'UnhandledInvocationError');
        return;
      }
      const delay = options.retryDelayMs * 2 ** task.alreadyRetriedTimes;
      transition(task, 'Retrying', `${outcome.error.errorMessage}; next attempt in ${delay} ms`, this.now());
      await this.wait(task, delay);
      if (isFinal(task.status)) return;
      task.alreadyRetriedTimes++;
    }
  }

  /** Waits before the next attempt; StopAsyncTask ends the wait early. */
  private wait(task: Task, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        delete task.wake;
        resolve();
      }, ms);
      timer.unref();
      task.wake = () => {
        clearTimeout(timer);
        delete task.wake;
        resolve();
      };
    });
  }

  /** Hands a finished task to the function's destination for its outcome, when one is configured. */
  private deliver(task: Task, kind: DestinationKind, condition: string): void {
    const destination = this.config(task.functionName)[kind];
    if (!destination) return;
    const failed = kind === 'onFailure';
    this.destinations.add(task.functionName, kind, destination, {
      timestamp: this.now(),
      requestContext: {
        requestId: task.requestId,
        functionArn: task.functionArn,
        condition,
        approximateInvokeCount: task.invocations,
      },
      requestPayload: task.payload.toString('utf8'),
      responseContext: {
        statusCode: 200,
        functionError: failed && task.error ? task.error.errorType : '',
      },
      responsePayload: failed ? (task.error ? JSON.stringify(task.error) : '') : (task.returnPayload ?? ''),
    });
    task.destinationStatus = 'Succeeded';
    if (failed) this.log({ msg: 'async task sent to its on-failure destination', taskId: task.taskId, condition });
  }
}

function encodeToken(task: Task): string {
  return Buffer.from(JSON.stringify({ t: task.startedTime, id: task.taskId })).toString('base64url');
}

function decodeToken(token: string): { t: number; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { t?: unknown; id?: unknown };
    if (typeof parsed.t === 'number' && typeof parsed.id === 'string') return { t: parsed.t, id: parsed.id };
  } catch {
    // falls through to the refusal
  }
  throw invalidArgument('nextToken is not a token this API gave out');
}

export const isTaskStatus = (s: string): s is TaskStatus => (TASK_STATUSES as readonly string[]).includes(s);
