/** coupon-campaign-chunk — one chunk of a campaign, an FC async target: the operation `<CampaignId>:<n>` exactly once. */
import { chunkHandler } from '../lib/campaigns/handlers.js';
import { createRuntime } from '../lib/runtime.js';

export const handler = chunkHandler(createRuntime(process.env));
