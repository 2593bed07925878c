/** coupon-campaign — the campaign planner, an FC async target: plans the list and submits its chunks (docs/campaigns.md). */
import { plannerHandler } from '../lib/campaigns/handlers.js';
import { createRuntime } from '../lib/runtime.js';

export const handler = plannerHandler(createRuntime(process.env));
