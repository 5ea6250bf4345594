import type { Knex } from 'knex';
import * as initialSchema from './migrations/001_initial_schema.js';
import * as bookings from './migrations/002_bookings.js';
import * as callTranscripts from './migrations/003_call_transcripts.js';

type Migration = Knex.Migration;

/** Migrations in order, bundled with the code (no files read at run time). */
const MIGRATIONS: ReadonlyArray<readonly [string, Migration]> = [
  ['001_initial_schema', initialSchema],
  ['002_bookings', bookings],
  ['003_call_transcripts', callTranscripts],
];

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = MIGRATIONS.find(([candidate]) => candidate === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};

/**
 * Runs pending migrations. Idempotent, and safe when several processes race
 * (Knex holds its migration lock).
 * @returns the names of the migrations applied now.
 */
export async function migrate(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}
