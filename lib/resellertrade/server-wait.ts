import { ACS_HEADER } from '../acs/constants.js';

/** The longest wait a server hint may impose: one refusal must not freeze a warm instance's later work. */
export const MAX_SERVER_WAIT_MS = 5_000;

/**
 * The server's wait hint, capped at MAX_SERVER_WAIT_MS: `x-acs-retry-after` is in milliseconds (as Alibaba's
 * SDKs read it), `Retry-After` in seconds or an HTTP date.
 */
export function retryAfterMs(headers: Readonly<Record<string, string | undefined>>): number | undefined {
  const cap = (ms: number) => Math.min(MAX_SERVER_WAIT_MS, Math.max(0, Math.round(ms)));
  const acs = headers[ACS_HEADER.retryAfter];
  if (acs !== undefined && acs.trim() !== '' && Number.isFinite(Number(acs))) return cap(Number(acs));
  const raw = headers['retry-after'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return cap(seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : cap(at - Date.now());
}
