import path from 'node:path';
import type { Knex } from 'knex';
import { DatabaseUnavailableError } from './errors.js';
import { maskConnectionString } from './connection-string.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { createKnex } from './knex.js';

export interface DatabaseOptions {
  /** A server to use. Unset: start an embedded PostgreSQL under `dataDir`. */
  databaseUrl?: string | undefined;
  /** Where the embedded cluster lives (`<dataDir>/postgres`). */
  dataDir: string;
  /** Name of the application database on the embedded server. Default `live_call_guard`. */
  embeddedDatabase?: string;
  /** The application pool's size (min kept open, max). Default: createKnex's (0, DEFAULTS.dbPoolSize). */
  pool?: { min: number; max: number };
}

export interface Database {
  readonly knex: Knex;
  /** Where it is, password masked: safe to log. */
  readonly description: string;
  /** The connection string, password included: never log it. */
  readonly connectionString: string;
  /** Destroys the pool and stops the embedded server, if any. Runs once. */
  close(): Promise<void>;
}

/** Opens the configured database, checks that it answers, and returns it. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const knex = createKnex(options.databaseUrl, poolOptions(options));
    const description = maskConnectionString(options.databaseUrl);
    await ensureReachable(knex, description);
    return { knex, description, connectionString: options.databaseUrl, close: once(() => knex.destroy()) };
  }

  const server = new EmbeddedPostgres({ dataDir: path.join(options.dataDir, 'postgres') });
  const adminUrl = await server.start();
  try {
    const name = options.embeddedDatabase ?? 'live_call_guard';
    await createDatabaseIfMissing(adminUrl, name);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const knex = createKnex(url.toString(), poolOptions(options));
    const description = `embedded PostgreSQL ${maskConnectionString(url.toString())} (data in ${server.dataDirectory})`;
    await ensureReachable(knex, description);
    return {
      knex,
      description,
      connectionString: url.toString(),
      close: once(async () => {
        await knex.destroy();
        await server.stop();
      }),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

function poolOptions(options: DatabaseOptions): { poolMin?: number; poolMax?: number } {
  return options.pool ? { poolMin: options.pool.min, poolMax: options.pool.max } : {};
}

/** Creates database `name` on the server of `adminUrl` unless it exists. */
export async function createDatabaseIfMissing(adminUrl: string, name: string, template?: string): Promise<void> {
  const admin = createKnex(adminUrl, { poolMax: 1 });
  try {
    const found = await admin('pg_database').where({ datname: name }).first('datname');
    if (found) return;
    await admin.raw(template ? 'create database ?? template ??' : 'create database ??', template ? [name, template] : [name]);
  } catch (error) {
    // Another process created it between our check and our create.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.destroy();
  }
}

async function ensureReachable(knex: Knex, description: string): Promise<void> {
  try {
    await knex.raw('select 1');
  } catch (error) {
    await knex.destroy();
    const reason = (error as { code?: string; message?: string }).code ?? (error as Error).message;
    throw new DatabaseUnavailableError(`cannot reach the database ${description}: ${reason}`, { cause: error });
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
