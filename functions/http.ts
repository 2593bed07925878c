/** coupon-http — HTTP trigger: POST /coupons, GET /healthz (docs/requests.md). */
import middy from '@middy/core';
import { sendDeliveries } from '../lib/deliver.js';
import type { FcContext } from '../lib/fc.js';
import type { PipelineEvent, PipelineInternal } from '../lib/pipeline.js';
import { httpDecoder } from '../lib/middleware/decoders.js';
import { httpAnswer } from '../lib/middleware/encoders.js';
import { fcInvocation } from '../lib/middleware/fc-invocation.js';
import { sendRequestValidator } from '../lib/middleware/validator.js';
import { createRuntime } from '../lib/runtime.js';

const runtime = createRuntime(process.env);

export const handler = middy<PipelineEvent, unknown, Error, FcContext, PipelineInternal>()
  .use(httpAnswer(runtime.logger))
  .use(fcInvocation('http', runtime))
  .use(httpDecoder())
  .use(sendRequestValidator())
  .handler(sendDeliveries);
