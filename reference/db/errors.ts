import { LiveCallGuardError } from '../../src/index.js';

/** The reference server's own errors (its database and port), on the layer's base class. */
export const ServerErrorCodes = {
  EMBEDDED_POSTGRES: 'ERR_EMBEDDED_POSTGRES',
  DATABASE_UNAVAILABLE: 'ERR_DATABASE_UNAVAILABLE',
  PORT_IN_USE: 'ERR_PORT_IN_USE',
} as const;

/** The embedded PostgreSQL could not be initialised, started or stopped. */
export class EmbeddedPostgresError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ServerErrorCodes.EMBEDDED_POSTGRES, message, options);
  }
}

/** The database refused connections or did not answer. */
export class DatabaseUnavailableError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ServerErrorCodes.DATABASE_UNAVAILABLE, message, options);
  }
}

/** The HTTP port is taken by another process. */
export class PortInUseError extends LiveCallGuardError {
  constructor(message: string, options?: ErrorOptions) {
    super(ServerErrorCodes.PORT_IN_USE, message, options);
  }
}
