import type http from 'node:http';
import { sendJson } from '../http-io.js';
import { asyncConfigBody, DEFAULT_ASYNC_CONFIG, parseAsyncInvokeConfig } from './config.js';
import { FcRefusal, invalidArgument } from './refusal.js';
import { invocationBody, taskBody } from './task.js';
import { isTaskStatus, type AsyncTasks, type ListQuery } from './tasks.js';

const CONFIG = /^\/2023-03-30\/functions\/([^/]+)\/async-invoke-config\/?$/;
const TASKS = /^\/2023-03-30\/functions\/([^/]+)\/async-tasks\/?$/;
const TASK = /^\/2023-03-30\/functions\/([^/]+)\/async-tasks\/([^/]+?)(\/stop)?\/?$/;
const INVOCATION = /^\/__gateway\/invocations\/([^/]+)$/;
const DESTINATIONS = /^\/__gateway\/destinations\/([^/]+)$/;

function decoded(part: string | undefined, what: string): string {
  try {
    return decodeURIComponent(part ?? '');
  } catch {
    throw new FcRefusal(400, 'InvalidPath', `the ${what} has invalid percent-encoding`);
  }
}

function whole(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw invalidArgument(`${name} must be a whole number from ${min} to ${max} (got "${raw.slice(0, 32)}")`);
  return n;
}

/** ListAsyncTasks' query, every parameter checked. */
function listQuery(params: URLSearchParams): ListQuery {
  const status = params.get('status') || undefined;
  if (status !== undefined && !isTaskStatus(status))
    throw invalidArgument(`status must be one of the task states (got "${status.slice(0, 32)}")`);
  const order = params.get('sortOrderByTime') || 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalidArgument('sortOrderByTime must be asc or desc');
  const include = params.get('includePayload') || 'false';
  if (include !== 'true' && include !== 'false') throw invalidArgument('includePayload must be true or false');
  const prefix = params.get('prefix') || undefined;
  const nextToken = params.get('nextToken') || undefined;
  const begin = whole(params, 'startedTimeBegin', 0, Number.MAX_SAFE_INTEGER);
  const end = whole(params, 'startedTimeEnd', 0, Number.MAX_SAFE_INTEGER);
  return {
    sortOrderByTime: order,
    limit: whole(params, 'limit', 1, 100) ?? 20,
    includePayload: include === 'true',
    ...(status === undefined ? {} : { status }),
    ...(prefix === undefined ? {} : { prefix }),
    ...(nextToken === undefined ? {} : { nextToken }),
    ...(begin === undefined ? {} : { startedTimeBegin: begin }),
    ...(end === undefined ? {} : { startedTimeEnd: end }),
  };
}

export interface AsyncRoutesOptions {
  tasks: AsyncTasks;
  has(functionName: string): boolean;
  functionArn(functionName: string): string;
}

/**
 * FC 3.0's async task API (GetAsyncTask, ListAsyncTasks, StopAsyncTask) and async configuration
 * (Get/Put/DeleteAsyncInvokeConfig) at FC's paths, plus the gateway's own views: an async invocation by id and a
 * function's destination lists. Answers whether it served the request.
 */
export function asyncRoutes(options: AsyncRoutesOptions) {
  const { tasks } = options;
  const functionNamed = (part: string | undefined): string => {
    const name = decoded(part, 'function name');
    if (!options.has(name))
      throw new FcRefusal(404, 'FunctionNotFound', `function ${name.slice(0, 64)} does not exist`);
    return name;
  };
  const configAnswer = (res: http.ServerResponse, name: string) =>
    sendJson(
      res,
      200,
      JSON.stringify(asyncConfigBody(tasks.config(name), options.functionArn(name), tasks.configTimes(name))),
    );

  return (req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer): boolean => {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    let m: RegExpExecArray | null;
    if ((m = CONFIG.exec(path))) {
      const name = functionNamed(m[1]);
      if (method === 'GET') {
        configAnswer(res, name);
        return true;
      }
      if (method === 'PUT') {
        let raw: unknown;
        try {
          raw = JSON.parse(body.toString('utf8'));
        } catch {
          throw invalidArgument('the body must be a JSON PutAsyncInvokeConfigInput');
        }
        const config = parseAsyncInvokeConfig(raw, tasks.config(name));
        if (typeof config === 'string') throw invalidArgument(config);
        tasks.putConfig(name, config);
        configAnswer(res, name);
        return true;
      }
      if (method === 'DELETE') {
        tasks.putConfig(name, DEFAULT_ASYNC_CONFIG);
        res.writeHead(204).end();
        return true;
      }
      throw new FcRefusal(405, 'MethodNotAllowed', 'GET, PUT or DELETE the async-invoke-config');
    }
    if ((m = TASKS.exec(path)) && method === 'GET') {
      const name = functionNamed(m[1]);
      sendJson(res, 200, JSON.stringify(tasks.list(name, listQuery(url.searchParams))));
      return true;
    }
    if ((m = TASK.exec(path))) {
      const name = functionNamed(m[1]);
      const taskId = decoded(m[2], 'task id');
      if (m[3] && method === 'PUT') {
        tasks.stop(name, taskId);
        res.writeHead(200, { 'content-length': '0' }).end();
        return true;
      }
      if (!m[3] && method === 'GET') {
        sendJson(res, 200, JSON.stringify(taskBody(tasks.get(name, taskId), true)));
        return true;
      }
      throw new FcRefusal(405, 'MethodNotAllowed', 'GET async-tasks/{id}, or PUT async-tasks/{id}/stop');
    }
    if ((m = INVOCATION.exec(path)) && method === 'GET') {
      const task = tasks.byId(decoded(m[1], 'invocation id'));
      if (!task) throw new FcRefusal(404, 'InvocationNotFound', 'no asynchronous invocation has this id');
      sendJson(res, 200, JSON.stringify(invocationBody(task)));
      return true;
    }
    if ((m = DESTINATIONS.exec(path)) && method === 'GET') {
      const name = functionNamed(m[1]);
      sendJson(res, 200, JSON.stringify({ functionName: name, ...tasks.destinations.of(name) }));
      return true;
    }
    return false;
  };
}
