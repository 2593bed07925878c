/** coupon-event — EventBridge trigger: one CloudEvent, an array of them, or RawData. */
import middy from '@middy/core';
import { sendDeliveries } from '../lib/deliver.js';
import type { FcContext } from '../lib/fc.js';
import type { PipelineEvent, PipelineInternal } from '../lib/pipeline.js';
import { eventDecoder } from '../lib/middleware/decoders.js';
import { jsonAnswer } from '../lib/middleware/encoders.js';
import { fcInvocation } from '../lib/middleware/fc-invocation.js';
import { sendRequestValidator } from '../lib/middleware/validator.js';
import { createRuntime } from '../lib/runtime.js';

const runtime = createRuntime(process.env);

export const handler = middy<PipelineEvent, unknown, Error, FcContext, PipelineInternal>()
  .use(jsonAnswer(runtime.logger))
  .use(fcInvocation('event', runtime))
  .use(eventDecoder())
  .use(sendRequestValidator())
  .handler(sendDeliveries);
