/** coupon-event — EventBridge trigger: one CloudEvent, an array of them, or RawData. */
import middy from '@middy/core';
import { sendDeliveries } from '../lib/deliver.js';
import type { InvocationContext } from '../lib/invocation.js';
import { eventDecoder } from '../lib/middleware/decoders.js';
import { jsonAnswer } from '../lib/middleware/encoders.js';
import { fcInvocation } from '../lib/middleware/invocation.js';
import { sendRequestValidator } from '../lib/middleware/validator.js';
import { createRuntime } from '../lib/runtime.js';

const runtime = createRuntime(process.env);

export const handler = middy<Buffer, unknown, Error, InvocationContext>()
  .use(jsonAnswer(runtime.logger))
  .use(fcInvocation('event', runtime))
  .use(eventDecoder())
  .use(sendRequestValidator())
  .handler(sendDeliveries);
