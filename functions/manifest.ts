/** The functions `s.yaml` deploys, by name, with their entry files: the one list build, local stack and tests read. */
export const FUNCTIONS = {
  'coupon-http': 'functions/http.ts',
  'coupon-event': 'functions/event.ts',
  'coupon-timer': 'functions/timer.ts',
  'coupon-campaign': 'functions/campaign.ts',
  'coupon-campaign-chunk': 'functions/campaign-chunk.ts',
  'coupon-ops': 'functions/ops.ts',
} as const;

export type FunctionName = keyof typeof FUNCTIONS;
