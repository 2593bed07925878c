/** Errors as data: one stable Code per failure a caller can act on, its HTTP status, and whether a retry helps. */

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
