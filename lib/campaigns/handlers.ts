import { errorReply } from '../answer.js';
import { AppError } from '../errors.js';
import type { FcContext } from '../fc.js';
import { invocationDeadline } from '../fc.js';
import { stringifyExact } from '../json.js';
import { toFcHttpResponse, type FcHttpResponse } from '../triggers/http-event.js';
import type { RuntimeHolder } from '../runtime.js';
import type { ChunkTask } from './chunk-operation.js';
import { runPlanner, type PlannerResult } from './planner.js';
import type { RelayedRoute } from './relay.js';
import { campaignRoute } from './routes.js';
import { campaignServices } from './services.js';
import type { PlannerTask } from './tasks.js';
import { runChunk, type ChunkResult } from './worker.js';

/** Stop sending this long before FC's timeout, so the results file and the count still fit. */
const DEADLINE_MARGIN_MS = 2000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The payload of a campaign task, written by this code's own submissions. It is read back as plain JSON (ids are
 * `{digits, kind}` objects, never numbers), and a payload of another shape fails the invocation, which FC's
 * retries and on-failure destination then report: it is never guessed at.
 */
function payloadOf(event: Buffer, shape: 'planner' | 'chunk'): unknown {
  const value: unknown = JSON.parse(event.toString('utf8'));
  const ok =
    shape === 'planner'
      ? isObject(value) && ((isObject(value['start']) && 'round' in value) || isObject(value['route']))
      : isObject(value) && isObject(value['campaign']) && isObject(value['chunk']);
  if (!ok) throw new Error(`the invocation payload is not a campaign ${shape} task`);
  return value;
}

export function plannerHandler(holder: RuntimeHolder) {
  return async (event: Buffer, context: FcContext): Promise<PlannerResult | FcHttpResponse> => {
    const runtime = await holder.get();
    const log = runtime.logger.child({ requestId: context.requestId });
    const payload = payloadOf(event, 'planner') as PlannerTask | RelayedRoute;
    if ('route' in payload) {
      const { method, path, contentType, body } = payload.route;
      const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
      try {
        return await campaignRoute({ method, path, headers, body: Buffer.from(body, 'base64') }, runtime, context, log);
      } catch (err) {
        const error =
          err instanceof AppError
            ? err
            : new AppError(500, 'InternalError', 'An internal error stopped this campaign request; try again.');
        if (!(err instanceof AppError))
          log.error('campaign route failed', { error: err instanceof Error ? err.message : String(err) });
        const reply = errorReply(error);
        return toFcHttpResponse(reply.status, stringifyExact(reply.body), reply.headers);
      }
    }
    return runPlanner(payload, await campaignServices(runtime, context), log);
  };
}

export function chunkHandler(holder: RuntimeHolder) {
  return async (event: Buffer, context: FcContext): Promise<ChunkResult> => {
    const startedAt = Date.now();
    const runtime = await holder.get();
    const services = await campaignServices(runtime, context);
    const task = payloadOf(event, 'chunk') as ChunkTask;
    return runChunk(task, services, {
      context,
      deadline: invocationDeadline(context, startedAt) - DEADLINE_MARGIN_MS,
      logger: runtime.logger.child({ requestId: context.requestId }),
    });
  };
}
