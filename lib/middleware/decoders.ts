import type { MiddlewareObj } from '@middy/core';
import { invocationOf, type InvocationContext } from '../invocation.js';
import { decodeEvents } from '../triggers/event.js';
import { parseHttpEvent, routeHttp, toFcHttpResponse } from '../triggers/http.js';
import { decodeTimer } from '../triggers/timer.js';

type Decoder = MiddlewareObj<Buffer, unknown, Error, InvocationContext>;

/** FC HTTP event → the one delivery of a POST /coupons; /healthz answers here without going further. */
export function httpDecoder(): Decoder {
  return {
    name: 'httpDecoder',
    before: (request) => {
      const route = routeHttp(parseHttpEvent(request.event));
      if (route.kind === 'health') return toFcHttpResponse(200, '{"status":"ok"}', {});
      invocationOf(request.context).received = [route.delivery];
      return undefined;
    },
  };
}

export function eventDecoder(): Decoder {
  return {
    name: 'eventDecoder',
    before: (request) => {
      invocationOf(request.context).received = decodeEvents(request.event);
    },
  };
}

export function timerDecoder(): Decoder {
  return {
    name: 'timerDecoder',
    before: (request) => {
      invocationOf(request.context).received = [decodeTimer(request.event)];
    },
  };
}
