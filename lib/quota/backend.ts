import type { Decision, QuotaSettings, SlotRequest } from './gcra.js';
/** Where the quota's schedule lives: one step per call, atomic, on the clock of whoever holds the state. */
export interface QuotaBackend {
  readonly settings: QuotaSettings;
  /** `key` names the seller: every operation of a seller shares its quota. */
  reserve(key: string, request: SlotRequest): Promise<Decision>;
  /** An upstream throttle of a call scheduled in `generation`; resolves with the generation after it. */
  throttled(key: string, generation: number, retryAfterUs: number): Promise<number>;
}
