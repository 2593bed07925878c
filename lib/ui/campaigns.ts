import type { CampaignStore } from '../campaigns/store.js';
import type { CampaignReader } from './page.js';

/** The page's campaign section from the campaign store: the newest first, with their counts. */
export function campaignReader(store: Pick<CampaignStore, 'recent'>): CampaignReader {
  return {
    async list(limit) {
      return (await store.recent(limit)).map((r) => ({
        id: r.campaignId,
        state: r.state,
        total: r.total,
        sent: r.sent,
        failed: r.failed,
        unknown: r.unknown,
        updatedAt: r.startedAt,
      }));
    },
  };
}
