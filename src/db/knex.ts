import knexFactory, { type Knex } from 'knex';

/** Where Knex's own warnings go (it prints to the console otherwise). */
export interface KnexLog {
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  deprecate(method: string, alternative: string): void;
}

export interface KnexOptions {
  /** Knex's warnings and errors (e.g. "Acquire connection error"); default: dropped, as they reach the caller as errors anyway. */
  log?: KnexLog;
  /** Largest number of pooled connections. Default 10. */
  poolMax?: number;
  /** `application_name` shown in pg_stat_activity. Default `live-call-guard`. */
  applicationName?: string;
}

const SILENT_LOG: KnexLog = { warn: () => {}, error: () => {}, debug: () => {}, deprecate: () => {} };

/**
 * A Knex instance on PostgreSQL. `version` is given so that Knex never runs
 * its `select version()` probe on a new connection (that probe would be a
 * query inside whatever context opened the connection, e.g. a live call).
 */
export function createKnex(connectionString: string, options: KnexOptions = {}): Knex {
  const knex = knexFactory({
    client: 'pg',
    version: '15',
    // Bounded waits: a database that does not answer fails a query in
    // seconds (a transient error the flusher retries), never hangs it.
    connection: { connectionString, application_name: options.applicationName ?? 'live-call-guard', connectionTimeoutMillis: 5_000 },
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
    log: options.log ?? SILENT_LOG,
  });
  return knex;
}
