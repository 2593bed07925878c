/** Errors as data: one stable Code per failure a caller can act on, its HTTP status, and whether a retry helps. */
import type { IdempotencyCode, IdempotencyError } from './idempotency/errors.js';

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  errors?: FieldError[];
  retryable?: boolean;
  retryAfterSeconds?: number;
  requestId?: string;
  cause?: unknown;
}

export class AppError extends Error {
  readonly errors: FieldError[] | undefined;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly requestId: string | undefined;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.errors = options.errors;
    this.retryable = options.retryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.requestId = options.requestId;
  }
}

export const invalidRequest = (errors: FieldError[], requestId?: string): AppError =>
  new AppError(
    400,
    'InvalidParameter',
    `The request is invalid: ${errors.length} problem${errors.length === 1 ? '' : 's'}, listed in errors.`,
    {
      errors,
      ...(requestId === undefined ? {} : { requestId }),
    },
  );

const IDEMPOTENCY_STATUS: Record<IdempotencyCode, number> = {
  RequestInProgress: 409,
  IdempotencyKeyReused: 422,
  IdempotencyStoreUnavailable: 503,
};

/** An idempotency refusal as an answer: nothing was sent; the store's error stays attached as the cause. */
export function idempotencyRefusal(err: IdempotencyError, requestId: string): AppError {
  const message =
    err.code === 'IdempotencyStoreUnavailable'
      ? `The idempotency store cannot be used (${err.message}); nothing was sent. Retry later with the same RequestId.`
      : err.message;
  return new AppError(IDEMPOTENCY_STATUS[err.code], err.code, message, {
    requestId,
    retryable: err.code !== 'IdempotencyKeyReused',
    ...(err.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: err.retryAfterSeconds }),
    cause: err,
  });
}
