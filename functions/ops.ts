/** coupon-ops — HTTP trigger (function auth): the operations page at /__ui (docs/operations.md). It never sends. */
import middy from '@middy/core';
import type { FcContext } from '../lib/fc.js';
import type { FcHttpResponse } from '../lib/triggers/http-event.js';
import { deployedOperationsPage, pageAnswer } from '../lib/ui/deployed.js';

const page = deployedOperationsPage(process.env);

export const handler = middy<unknown, FcHttpResponse, Error, FcContext>()
  .use(pageAnswer(page.logger))
  .handler((event, context) => page.answer(event, context));
