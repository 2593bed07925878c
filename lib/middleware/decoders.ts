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

/** A delivery whose data is a campaign start (it names a CampaignId) rather than a send request. */
const isCampaignStart = (d: Delivery): d is Extract<Delivery, { value: unknown }> =>
  'value' in d && typeof d.value === 'object' && d.value !== null && 'CampaignId' in d.value;

/** EventBridge event(s) → deliveries; an event whose data is a campaign start starts that campaign instead. */
export function eventDecoder(): Decoder {
  return {
    name: 'eventDecoder',
    before: async (request) => {
      const deliveries = decodeEvents(expectBytes(request.event));
      // Only an invocation of campaign starts alone: mixed with sends, they are refused by the send rules, in place.
      if (deliveries.length > 0 && deliveries.every(isCampaignStart)) {
        const { startCampaignsByEvent } = await import('../campaigns/relay.js');
        const { runtime, logger } = invocationOf(request);
        return startCampaignsByEvent(
          deliveries.map((d) => d.value),
          runtime,
          request.context,
          logger,
        );
      }
      request.event = { stage: 'received', deliveries };
      return undefined;
    },
  };
}

export const timerDecoder = (): Decoder => decoder('timerDecoder', (bytes) => [decodeTimer(bytes)]);
