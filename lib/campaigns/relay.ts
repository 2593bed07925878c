import { ACS_HEADER } from '../acs/constants.js';
import { signRequest } from '../acs/sign-request.js';
import { credentialSource } from '../credentials.js';
import { AppError } from '../errors.js';
import type { FcContext } from '../fc.js';
import { stringifyExact } from '../json.js';
import { createHttpTransport } from '../http/transport.js';
import type { Logger } from '../log.js';
import type { Runtime } from '../runtime.js';
import type { FcHttpResponse, HttpRequestView } from '../triggers/http-event.js';
import { campaignSettings } from './settings.js';
import { PLANNER_FUNCTION } from './tasks.js';

/** A campaign HTTP request as the planner function takes it (a synchronous invocation from coupon-http). */
export interface RelayedRoute {
  route: { method: string; path: string; contentType?: string; body: string };
}

/** Time for the planner to plan a large list before it answers (coupon-http's own timeout is 60 s). */
const RELAY_TIMEOUT_MS = 50_000;

const isResponse = (v: unknown): v is FcHttpResponse =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as FcHttpResponse).statusCode === 'number' &&
  typeof (v as FcHttpResponse).body === 'string';

/**
 * The campaign routes of coupon-http, relayed to the planner function (`coupon-campaign`) by a synchronous FC
 * InvokeFunction. Campaigns need ali-oss and the FC SDK; relaying keeps both out of the send functions' bundles
 * and cold start entirely (scripts/build.ts refuses a send bundle that holds them). The call is signed with
 * lib/acs's ACS3 signer, the one already used for FC's `function` authentication, with the runtime role's keys.
 */
export async function relayCampaignRoute(
  req: HttpRequestView,
  runtime: Runtime,
  context: FcContext,
  log: Logger,
): Promise<FcHttpResponse> {
  const settings = campaignSettings(runtime.env);
  const url = new URL(`/2023-03-30/functions/${PLANNER_FUNCTION}/invocations`, settings.fcEndpoint);
  const relayed: RelayedRoute = {
    route: {
      method: req.method,
      path: req.path,
      ...(req.headers['content-type'] === undefined ? {} : { contentType: req.headers['content-type'] }),
      body: req.body.toString('base64'),
    },
  };
  const body = JSON.stringify(relayed);
  const headers = signRequest(
    {
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/json',
        [ACS_HEADER.action]: 'InvokeFunction',
        [ACS_HEADER.version]: '2023-03-30',
        'x-fc-invocation-type': 'Sync',
      },
      body,
    },
    credentialSource(context, runtime.env)(),
  );
  let answer;
  try {
    answer = await createHttpTransport({ logger: log }).send(url, {
      method: 'POST',
      headers,
      body,
      timeoutMs: RELAY_TIMEOUT_MS,
    });
  } catch (err) {
    log.error('campaign route: the planner function could not be reached', {
      error: err instanceof Error ? err.message : String(err),
    });
    throw new AppError(503, 'ServiceUnavailable', 'The campaign service could not be reached; try again.', {
      retryable: true,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(answer.body);
  } catch {
    value = undefined;
  }
  if (answer.status !== 200 || answer.headers['x-fc-error-type'] !== undefined || !isResponse(value)) {
    log.error('campaign route: the planner function failed', {
      status: answer.status,
      body: answer.body.slice(0, 300),
    });
    throw new AppError(502, 'CampaignServiceError', 'The campaign service failed; try again.', { retryable: true });
  }
  return value;
}

/**
 * Campaign starts delivered as events (the body of POST /campaigns as an event's data): each relayed as that
 * route. Starting is idempotent, so a failure the planner may recover from is thrown for FC to deliver again;
 * a refusal (400, 422) is answered, as a send's would be.
 */
export async function startCampaignsByEvent(
  values: readonly unknown[],
  runtime: Runtime,
  context: FcContext,
  log: Logger,
): Promise<string> {
  const bodies: unknown[] = [];
  for (const value of values) {
    const answer = await relayCampaignRoute(
      {
        method: 'POST',
        path: '/campaigns',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(stringifyExact(value)),
      },
      runtime,
      context,
      log,
    );
    if (answer.statusCode >= 500)
      throw new AppError(503, 'ServiceUnavailable', `The campaign start answered ${answer.statusCode}; try again.`, {
        retryable: true,
      });
    bodies.push({ status: answer.statusCode, ...(JSON.parse(answer.body) as Record<string, unknown>) });
  }
  log.info('campaign starts by event', { statuses: bodies.map((b) => (b as { status: number }).status) });
  return stringifyExact(bodies.length === 1 ? bodies[0] : bodies);
}
