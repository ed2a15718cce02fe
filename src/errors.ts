/**
 * The errors c4c-runner throws. Each says who failed (the platform refused, the network failed,
 * your handler threw, your config is wrong) and what to do; `cause` keeps the original.
 */
export type C4cErrorCode =
  | 'E_CONFIG' // the config file or an env var is wrong
  | 'E_HANDLER_LOAD' // a handler file could not be loaded
  | 'E_HANDLER_NAME' // a handler file is named after no event
  | 'E_HANDLER_TIMEOUT' // a handler did not finish in time
  | 'E_REPLY' // a handler returned something its event cannot send
  | 'E_AUTH' // the platform refused the token
  | 'E_PLATFORM' // the platform answered with an error
  | 'E_NETWORK' // the platform could not be reached
  | 'E_CLOSED' // the runner or connection is closing
  | 'E_SEED' // the embedded platform's seed file is wrong
  | 'E_BACKLOG' // too many events are waiting
  | 'E_WEBHOOK' // the webhook could not be reached or kept failing
  | 'E_STATE' // ctx.state could not be read, written or serialized
  | 'E_WORKER' // a worker thread failed, or a value could not cross between threads
  | 'E_REDIS'; // Redis (for `start --redis`) could not be reached or refused a command

export class C4cError extends Error {
  override name = 'C4cError';
  readonly code: C4cErrorCode;
  /** Extra facts for logs: file, event, key, status, `errno` (a system error's code). Never holds the token. */
  readonly details?: Record<string, unknown>;

  constructor(
    code: C4cErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.details) this.details = options.details;
  }
}

/** The platform answered a REST call with an error envelope or an error status. */
export class PlatformError extends C4cError {
  override name = 'PlatformError';
  /** HTTP status, or 0 for an error frame. */
  readonly status: number;
  /** The platform's own error code (`EMPLOYMENT_NOT_ACTIVE`, `RATE_LIMITED`, …). */
  readonly platformCode: string;

  constructor(
    status: number,
    platformCode: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(status === 401 ? 'E_AUTH' : 'E_PLATFORM', message, options);
    this.status = status;
    this.platformCode = platformCode;
  }
}

export function isC4cError(error: unknown, code?: C4cErrorCode): error is C4cError {
  return error instanceof C4cError && (code === undefined || error.code === code);
}
