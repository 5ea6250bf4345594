/**
 * Every error this library throws on purpose carries a stable `code`.
 * Causes are chained with `{ cause }`.
 */
export const ErrorCodes = {
  INVALID_CONFIG: 'ERR_INVALID_CONFIG',
  EMBEDDED_POSTGRES: 'ERR_EMBEDDED_POSTGRES',
  DATABASE_UNAVAILABLE: 'ERR_DATABASE_UNAVAILABLE',
  PORT_IN_USE: 'ERR_PORT_IN_USE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class: an error with a code, safe to print as one line (no secrets). */
export class LiveCallGuardError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
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

/** The embedded PostgreSQL could not be initialised, started or stopped. */
export class EmbeddedPostgresError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.EMBEDDED_POSTGRES, message, options);
  }
}

/** The database refused connections or did not answer. */
export class DatabaseUnavailableError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.DATABASE_UNAVAILABLE, message, options);
  }
}

/** The HTTP port is taken by another process. */
export class PortInUseError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCodes.PORT_IN_USE, message, options);
  }
}
