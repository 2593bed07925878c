/**
 * Why an operation cannot be executed now, as the idempotency rules see it. Statuses are the answer layer's
 * business; the store's own error is kept as the cause.
 */
export type IdempotencyCode = 'RequestInProgress' | 'IdempotencyKeyReused' | 'IdempotencyStoreUnavailable';

export class IdempotencyError extends Error {
  constructor(
    readonly code: IdempotencyCode,
    message: string,
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IdempotencyError';
  }
}
