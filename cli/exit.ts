/**
 * The one exit-status table of every `coupon` command. When several apply, the higher-priority one wins:
 * usage (2) and not found (4) stop before anything is done; then UNKNOWN (3) outranks FAILED (1), because an
 * outcome nobody knows is the one that needs an operator.
 */
export const EXIT = {
  /** Every recipient SENT (or a dry run that passed, or nothing to do). */
  ok: 0,
  /** Some recipient FAILED (nothing issued for it), or the call could not be made at all. */
  failed: 1,
  /** A usage or configuration error: bad flags, or a record that cannot be read; nothing was done. */
  usage: 2,
  /** Some recipient UNKNOWN: it may or may not hold a coupon; `coupon reconcile` settles it. */
  unknown: 3,
  /** The RequestId asked for is not in the store. */
  notFound: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit status for a set of recipient statuses (SENT, FAILED, UNKNOWN, DRY_RUN); none at all is "failed". */
export function exitForStatuses(statuses: readonly string[]): ExitCode {
  if (statuses.some((s) => s === 'UNKNOWN')) return EXIT.unknown;
  if (statuses.length === 0 || statuses.some((s) => s !== 'SENT' && s !== 'DRY_RUN')) return EXIT.failed;
  return EXIT.ok;
}

/** Thrown for a usage or configuration problem: the command prints the message and exits 2. */
export class UsageError extends Error {}

/** Thrown when the asked operation is not in the store: exit 4. */
export class NotFoundError extends Error {}

/** The call could not be made (a target or store that does not answer): exit 1, nothing was done. */
export class CallError extends Error {}

/** The call was made but its answer was lost: what it did is not known (exit 3). */
export class OutcomeUnknownError extends Error {}
