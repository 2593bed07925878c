import { describe, expect, it } from 'vitest';
import { campaignOnlyInputs } from '../../../scripts/build.js';

const inputs = [
  'lib/campaigns/relay.ts',
  'node_modules/ali-oss/lib/client.js',
  'node_modules/@alicloud/fc20230330/dist/client.js',
  'node_modules/@alicloud/openapi-core/dist/client.js',
  'node_modules/@middy/core/index.js',
];

describe('the build keeps ali-oss and the FC SDK out of the send functions', () => {
  it.each(['coupon-http', 'coupon-event', 'coupon-timer'])('refuses them in %s', (name) => {
    expect(campaignOnlyInputs(name, inputs)).toEqual(inputs.slice(1, 4));
    expect(campaignOnlyInputs(name, ['lib/campaigns/relay.ts', 'node_modules/@middy/core/index.js'])).toEqual([]);
  });

  it.each(['coupon-campaign', 'coupon-campaign-chunk'])('allows them in %s', (name) => {
    expect(campaignOnlyInputs(name, inputs)).toEqual([]);
  });
});
