import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { inject } from 'vitest';
import { createKnex } from '../../reference/db/knex.js';
import { databaseUrl, testDatabaseName } from './database-names.js';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  readonly knex: Knex;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh database of its own for a test file: a copy of the migrated
 * template (`migrated: true`, the default) or an empty one.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject('databaseAdminUrl');
  const name = testDatabaseName(inject('testRunId'), randomBytes(4).toString('hex'));
  const admin = createKnex(adminUrl, { poolMax: 1 });
  try {
    if (options.migrated ?? true) {
      await admin.raw('create database ?? template ??', [name, inject('templateDatabase')]);
    } else {
      await admin.raw('create database ??', [name]);
    }
  } finally {
    await admin.destroy();
  }
  const url = databaseUrl(adminUrl, name);
  const knex = createKnex(url);
  return {
    name,
    url,
    knex,
    drop: async () => {
      await knex.destroy();
      const dropper = createKnex(adminUrl, { poolMax: 1 });
      try {
        await dropper.raw('drop database if exists ?? with (force)', [name]);
      } finally {
        await dropper.destroy();
      }
    },
  };
}
