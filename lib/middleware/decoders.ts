import type { MiddlewareObj } from '@middy/core';
import type { FcContext } from '../fc.js';
import { expectBytes, type PipelineEvent, type PipelineInternal } from '../pipeline.js';
import { invocationOf } from './fc-invocation.js';
import type { Delivery } from '../triggers/delivery.js';
import { decodeEvents } from '../triggers/event.js';
import { parseHttpEvent, toFcHttpResponse } from '../triggers/http-event.js';
import { routeHttp } from '../triggers/http.js';
import { decodeTimer } from '../triggers/timer.js';

type Decoder = MiddlewareObj<PipelineEvent, unknown, Error, FcContext, PipelineInternal>;

/** A middleware that replaces the raw event bytes with the trigger's deliveries. */
const decoder = (name: string, decode: (bytes: Buffer) => Delivery[]): Decoder => ({
  name,
  before: (request) => {
    request.event = { stage: 'received', deliveries: decode(expectBytes(request.event)) };
  },
});

/** FC HTTP event → the one delivery of a POST /coupons; /healthz and the campaign routes answer here. */
export function httpDecoder(): Decoder {
  return {
    name: 'httpDecoder',
    before: async (request) => {
      const route = routeHttp(parseHttpEvent(expectBytes(request.event)));
      if (route.kind === 'health') return toFcHttpResponse(200, '{"status":"ok"}', {});
      if (route.kind === 'campaign') {
        // Loaded on the first campaign request only; it relays to the planner function, which holds the campaign code.
        const { relayCampaignRoute } = await import('../campaigns/relay.js');
        const { runtime, logger } = invocationOf(request);
        return relayCampaignRoute(route.request, runtime, request.context, logger);
      }
      request.event = { stage: 'received', deliveries: [route.delivery] };
      return undefined;
    },
  };
}

export const eventDecoder = (): Decoder => decoder('eventDecoder', decodeEvents);

export const timerDecoder = (): Decoder => decoder('timerDecoder', (bytes) => [decodeTimer(bytes)]);
