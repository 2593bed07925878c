/** coupon-timer — Timer trigger: {triggerTime, triggerName, payload}, payload being the send request as a JSON string. */
import middy from '@middy/core';
import { sendDeliveries } from '../lib/deliver.js';
import type { InvocationContext } from '../lib/invocation.js';
import { timerDecoder } from '../lib/middleware/decoders.js';
import { jsonAnswer } from '../lib/middleware/encoders.js';
import { fcInvocation } from '../lib/middleware/invocation.js';
import { sendRequestValidator } from '../lib/middleware/validator.js';
import { createRuntime } from '../lib/runtime.js';

const runtime = createRuntime(process.env);

export const handler = middy<Buffer, unknown, Error, InvocationContext>()
  .use(jsonAnswer(runtime.logger))
  .use(fcInvocation('timer', runtime))
  .use(timerDecoder())
  .use(sendRequestValidator())
  .handler(sendDeliveries);
