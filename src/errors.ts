/**
 * Every error this library throws on purpose carries a stable `code`.
 * Causes are chained with `{ cause }`.
 */
export const ErrorCodes = {
  INVALID_CONFIG: 'ERR_INVALID_CONFIG',
  LIVE_CALL_DB_ACCESS: 'ERR_LIVE_CALL_DB_ACCESS',
  LIVE_CALL_IO_ACCESS: 'ERR_LIVE_CALL_IO_ACCESS',
  UNKNOWN_TENANT: 'ERR_UNKNOWN_TENANT',
  CONTEXT_LOAD_FAILED: 'ERR_CONTEXT_LOAD_FAILED',
  INVALID_WRITE: 'ERR_INVALID_WRITE',
  WRITE_BUFFER_FULL: 'ERR_WRITE_BUFFER_FULL',
  WRITE_BUFFER_CLOSED: 'ERR_WRITE_BUFFER_CLOSED',
  JOURNAL: 'ERR_JOURNAL',
  TENANT_MISMATCH: 'ERR_TENANT_MISMATCH',
  STREAM_REPLAYED: 'ERR_STREAM_REPLAYED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class: an error with a code, safe to print as one line (no secrets). */
export class LiveCallGuardError extends Error {
  /** One of {@link ErrorCodes}, or an app's own `ERR_…` code (a subclass of its own). */
  readonly code: ErrorCode | (string & {});

  constructor(code: ErrorCode | (string & {}), message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value (environment variable or option) is invalid. */
export class ConfigError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.INVALID_CONFIG, message, options);
  }
}

/** A database query was attempted inside a live call while the guard blocks them. */
export class LiveCallDbAccessError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.LIVE_CALL_DB_ACCESS, message, options);
  }
}

/** An outbound request (HTTP, Redis, ...) was attempted inside a live call while the guard blocks them. */
export class LiveCallIoAccessError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.LIVE_CALL_IO_ACCESS, message, options);
  }
}

/** The start-of-call statement found no row for the call's tenant: nothing to bind the call to. */
export class UnknownTenantError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.UNKNOWN_TENANT, message, options);
  }
}

/** Loading a call context failed or timed out: the call can go on without CRM data. */
export class CallContextLoadError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.CONTEXT_LOAD_FAILED, message, options);
  }
}

/** A write operation given to a WriteBuffer is invalid; nothing was buffered. */
export class InvalidWriteError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.INVALID_WRITE, message, options);
  }
}

/** A WriteBuffer holds as many operations as it may. */
export class WriteBufferFullError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.WRITE_BUFFER_FULL, message, options);
  }
}

/** A WriteBuffer no longer takes operations (its call ended and it is flushing). */
export class WriteBufferClosedError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.WRITE_BUFFER_CLOSED, message, options);
  }
}

/** The write journal could not be written or read. */
export class JournalError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.JOURNAL, message, options);
  }
}

/** A flush found a row of another business where the call's own was expected: nothing was written. */
export class TenantMismatchError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.TENANT_MISMATCH, message, options);
  }
}

/** A media stream whose key (stream token nonce, or stream sid) was already claimed: a replay. */
export class StreamReplayError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.STREAM_REPLAYED, message, options);
  }
}
