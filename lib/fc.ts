/** The parts of the FC 3.0 Node.js context this project reads (keys are optional: FC sends `{}` without a role). */
export interface FcCredentials {
  accessKeyId?: string;
  accessKeySecret?: string;
  securityToken?: string;
}

export interface FcContext {
  requestId: string;
  credentials?: FcCredentials;
  function?: { name?: string; handler?: string; memory?: number; timeout?: number };
  service?: Record<string, unknown>;
  region?: string;
  accountId?: string;
  retryCount?: number;
}

/** FC has no getRemainingTimeInMillis: the deadline is the start of the invocation plus the function's timeout. */
export function invocationDeadline(context: FcContext, startedAt: number, fallbackTimeoutSeconds = 3): number {
  const timeout = context.function?.timeout;
  const seconds = typeof timeout === 'number' && timeout > 0 ? timeout : fallbackTimeoutSeconds;
  return startedAt + seconds * 1000;
}
