import path from 'node:path';
import { createDatabaseIfMissing } from '../../../reference/db/database.js';
import { EmbeddedPostgres } from '../../../reference/db/embedded-postgres.js';
import { createKnex } from '../../../reference/db/knex.js';

export interface ChaosDatabase {
  /** A database of the run's own (empty: the server migrates and seeds it). */
  readonly url: string;
  /** Drops it (and stops the embedded server, if one was started). */
  drop(): Promise<void>;
}

/**
 * The database of a standalone run (`npm run chaos`): a fresh database on
 * `DATABASE_URL`'s server (which must allow CREATE DATABASE), or, without
 * it, on an embedded PostgreSQL under `.data/chaos-postgres`.
 */
export async function createChaosDatabase(databaseUrl: string | undefined): Promise<ChaosDatabase> {
  const embedded = databaseUrl ? undefined : new EmbeddedPostgres({ dataDir: path.resolve('.data/chaos-postgres') });
  const adminUrl = embedded ? await embedded.start() : databaseUrl!;
  const name = `lcg_chaos_${process.pid}_${Date.now().toString(36)}`;
  try {
    await createDatabaseIfMissing(adminUrl, name);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const admin = createKnex(adminUrl, { poolMax: 1 });
      try {
        await admin.raw('drop database if exists ?? with (force)', [name]);
      } finally {
        await admin.destroy();
        await embedded?.stop();
      }
    },
  };
}
