import type { InvocationError } from '../instances/protocol.js';

/** FC 3.0's asynchronous task states (AsyncTask.status). `Invalid` is never reached locally. */
export const TASK_STATUSES = [
  'Enqueued',
  'Running',
  'Retrying',
  'Stopping',
  'Succeeded',
  'Failed',
  'Stopped',
  'Expired',
  'Invalid',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

const FINAL: ReadonlySet<TaskStatus> = new Set(['Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid']);
export const isFinal = (status: TaskStatus): boolean => FINAL.has(status);

/** One state change of a task, as FC lists them (AsyncTaskEvent). */
export interface TaskEvent {
  eventId: number;
  status: TaskStatus;
  timestamp: number;
  eventDetail: string;
}

/** A task as the gateway keeps it: FC's AsyncTask fields plus what running it needs. */
export interface Task {
  taskId: string;
  requestId: string;
  functionName: string;
  functionArn: string;
  payload: Buffer;
  status: TaskStatus;
  /** When it was accepted (ms): the start of its event age and ListAsyncTasks' time filter. */
  startedTime: number;
  endTime?: number;
  /** Retries started so far: FC's alreadyRetriedTimes (an attempt throttled before it ran is not one). */
  alreadyRetriedTimes: number;
  /** Attempts that reached an instance. */
  invocations: number;
  instanceId?: string;
  result?: unknown;
  returnPayload?: string;
  error?: InvocationError;
  events: TaskEvent[];
  /** Set once a destination record was written for it. */
  destinationStatus?: 'Succeeded';
  stopRequested: boolean;
  /** Ends the wait before the next attempt (StopAsyncTask). */
  wake?: () => void;
}

/** Moves a task to `status`, recording the event. */
export function transition(task: Task, status: TaskStatus, detail: string, now: number): void {
  task.status = status;
  task.events.push({ eventId: task.events.length + 1, status, timestamp: now, eventDetail: detail });
  if (isFinal(status)) task.endTime = now;
}

/** FC's AsyncTask as GetAsyncTask and ListAsyncTasks answer it. */
export function taskBody(task: Task, includePayload: boolean): Record<string, unknown> {
  return {
    taskId: task.taskId,
    requestId: task.requestId,
    functionArn: task.functionArn,
    qualifier: 'LATEST',
    status: task.status,
    startedTime: task.startedTime,
    ...(task.endTime === undefined ? {} : { endTime: task.endTime, durationMs: task.endTime - task.startedTime }),
    alreadyRetriedTimes: task.alreadyRetriedTimes,
    ...(task.instanceId ? { instanceId: task.instanceId } : {}),
    ...(task.returnPayload === undefined ? {} : { returnPayload: task.returnPayload }),
    ...(task.error && task.status !== 'Succeeded' ? { taskErrorMessage: task.error.errorMessage } : {}),
    ...(task.destinationStatus ? { destinationStatus: task.destinationStatus } : {}),
    events: task.events,
    ...(includePayload ? { taskPayload: task.payload.toString('utf8') } : {}),
  };
}

/**
 * The gateway's older view of an async invocation (`GET /__gateway/invocations/{id}`), kept for the tools and
 * tests that read it: `running` until the task ends.
 */
export function invocationBody(task: Task): Record<string, unknown> {
  const status =
    task.status === 'Succeeded'
      ? 'succeeded'
      : task.status === 'Stopped'
        ? 'stopped'
        : isFinal(task.status)
          ? 'failed'
          : 'running';
  return {
    requestId: task.requestId,
    taskId: task.taskId,
    functionName: task.functionName,
    status,
    taskStatus: task.status,
    attempts: task.invocations,
    ...(task.status === 'Succeeded' ? { result: task.result } : {}),
    ...(task.error ? { error: task.error } : {}),
  };
}
