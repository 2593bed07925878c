import type { MiddlewareObj } from '@middy/core';
import type { FcContext } from '../fc.js';
import { expectBytes, type PipelineEvent, type PipelineInternal } from '../pipeline.js';
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

/** FC HTTP event → the one delivery of a POST /coupons; /healthz answers here without going further. */
export function httpDecoder(): Decoder {
  return {
    name: 'httpDecoder',
    before: (request) => {
      const route = routeHttp(parseHttpEvent(expectBytes(request.event)));
      if (route.kind === 'health') return toFcHttpResponse(200, '{"status":"ok"}', {});
      request.event = { stage: 'received', deliveries: [route.delivery] };
      return undefined;
    },
  };
}

export const eventDecoder = (): Decoder => decoder('eventDecoder', decodeEvents);

export const timerDecoder = (): Decoder => decoder('timerDecoder', (bytes) => [decodeTimer(bytes)]);
