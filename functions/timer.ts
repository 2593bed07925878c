/** coupon-timer — Timer trigger: {triggerTime, triggerName, payload}, payload being the send request as a JSON string. */
import middy from '@middy/core';
import { sendDeliveries } from '../lib/deliver.js';
import type { FcContext } from '../lib/fc.js';
import type { PipelineEvent, PipelineInternal } from '../lib/pipeline.js';
import { timerDecoder } from '../lib/middleware/decoders.js';
import { jsonAnswer } from '../lib/middleware/encoders.js';
import { fcInvocation } from '../lib/middleware/fc-invocation.js';
import { sendRequestValidator } from '../lib/middleware/validator.js';
import { createRuntime } from '../lib/runtime.js';

const runtime = createRuntime(process.env);

export const handler = middy<PipelineEvent, unknown, Error, FcContext, PipelineInternal>()
  .use(jsonAnswer(runtime.logger))
  .use(fcInvocation('timer', runtime))
  .use(timerDecoder())
  .use(sendRequestValidator())
  .handler(sendDeliveries);
