import knexFactory, { type Knex } from 'knex';
import { DEFAULTS } from '../../src/index.js';

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
  /** Largest number of pooled connections. Default DEFAULTS.dbPoolSize (10). */
  poolMax?: number;
  /** Connections kept open when idle (never reaped below this; see {@link warmPool}). Default 0. */
  poolMin?: number;
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
    pool: { min: options.poolMin ?? 0, max: options.poolMax ?? DEFAULTS.dbPoolSize },
    acquireConnectionTimeout: 10_000,
    log: options.log ?? SILENT_LOG,
  });
  return knex;
}

/**
 * Opens `connections` pooled connections at once and gives them back, so
 * that the first burst of call starts finds them open: a new PostgreSQL
 * connection (TCP, SCRAM, startup) costs milliseconds of CPU on both sides,
 * and a burst of starts on a cold pool opens up to the pool's max at once
 * while every start waits. Keep them with `poolMin` (else idle ones are
 * reaped after 30 s). Resolves with how many were opened; rejects like a query.
 */
export async function warmPool(knex: Knex, connections: number): Promise<number> {
  const client = knex.client as { acquireConnection(): Promise<unknown>; releaseConnection(connection: unknown): Promise<unknown> };
  const acquired = await Promise.allSettled(Array.from({ length: connections }, () => client.acquireConnection()));
  await Promise.all(acquired.flatMap((a) => (a.status === 'fulfilled' ? [client.releaseConnection(a.value)] : [])));
  const failed = acquired.find((a): a is PromiseRejectedResult => a.status === 'rejected');
  if (failed) throw failed.reason;
  return acquired.length;
}
