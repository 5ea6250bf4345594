import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDatabaseIfMissing } from '../../src/db/database.js';
import { EmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { createKnex } from '../../src/db/knex.js';
import { migrate } from '../../src/db/migrate.js';
import { databaseUrl, TEST_DATABASE_PREFIX } from '../helpers/database-names.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL on the test server (can CREATE DATABASE). */
    databaseAdminUrl: string;
    /** A migrated database each test file copies its own from. */
    templateDatabase: string;
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
  await dropTestDatabases(adminUrl);

  const template = `${TEST_DATABASE_PREFIX}template_${process.pid}`;
  await createDatabaseIfMissing(adminUrl, template);
  const knex = createKnex(databaseUrl(adminUrl, template), { poolMax: 1 });
  try {
    await migrate(knex);
  } finally {
    await knex.destroy();
  }

  project.provide('databaseAdminUrl', adminUrl);
  project.provide('templateDatabase', template);
  return async () => {
    await dropTestDatabases(adminUrl);
    await embedded?.stop();
  };
}

/** Drops every database this suite made, this run's and leftovers of killed runs. */
async function dropTestDatabases(adminUrl: string): Promise<void> {
  const admin = createKnex(adminUrl, { poolMax: 1 });
  try {
    const rows = (await admin('pg_database')
      .where('datname', 'like', `${TEST_DATABASE_PREFIX}%`)
      .select('datname')) as Array<{ datname: string }>;
    for (const { datname } of rows) await admin.raw('drop database if exists ?? with (force)', [datname]);
  } finally {
    await admin.destroy();
  }
}
