import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDatabaseIfMissing } from '../../reference/db/database.js';
import { EmbeddedPostgres } from '../../reference/db/embedded-postgres.js';
import { isAlive } from '../../reference/db/process-alive.js';
import { createKnex } from '../../reference/db/knex.js';
import { migrate } from '../../reference/db/migrate.js';
import { migrateLayer } from '../../src/context/stream-claims.js';
import { databaseUrl, runIdOf, TEST_DATABASE_PREFIX, testDatabaseName } from '../helpers/database-names.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL on the test server (can CREATE DATABASE). */
    databaseAdminUrl: string;
    /** A migrated database each test file copies its own from. */
    templateDatabase: string;
    /** Names this run's databases (see testDatabaseName). */
    testRunId: string;
  }
}

/**
 * One PostgreSQL for the run: `DATABASE_URL` when set, else an embedded one
 * under `.data/test-postgres`. A template database is migrated once.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const embedded = process.env.DATABASE_URL
    ? undefined
    : new EmbeddedPostgres({ dataDir: path.resolve('.data/test-postgres') });
  const adminUrl = embedded ? await embedded.start() : process.env.DATABASE_URL!;
  const runId = String(process.pid);
  await dropTestDatabases(adminUrl, (owner) => !isAlive(Number(owner)));

  const template = testDatabaseName(runId, 'template');
  await createDatabaseIfMissing(adminUrl, template);
  const knex = createKnex(databaseUrl(adminUrl, template), { poolMax: 1 });
  try {
    await migrateLayer(knex);
    await migrate(knex);
  } finally {
    await knex.destroy();
  }

  project.provide('databaseAdminUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('testRunId', runId);
  return async () => {
    await dropTestDatabases(adminUrl, (owner) => owner === runId);
    await embedded?.stop();
  };
}

/** Drops the test databases whose run id matches: this run's, or those of runs that are gone. */
async function dropTestDatabases(adminUrl: string, matches: (runId: string) => boolean): Promise<void> {
  const admin = createKnex(adminUrl, { poolMax: 1 });
  try {
    const rows = (await admin('pg_database')
      .where('datname', 'like', `${TEST_DATABASE_PREFIX}%`)
      .select('datname')) as Array<{ datname: string }>;
    const ours = rows.filter(({ datname }) => matches(runIdOf(datname) ?? ''));
    for (const { datname } of ours) await admin.raw('drop database if exists ?? with (force)', [datname]);
  } finally {
    await admin.destroy();
  }
}
