import type { Knex } from 'knex';
import { ConfigError } from '../errors.js';

/** The layer's one table: the streams that started (see loadContext's `streamKey`). */
export const STREAM_CLAIMS_TABLE = 'live_call_stream_claims';
/** The layer's migrations table: never knex's default, so it sits beside the app's own migrations. */
export const LAYER_MIGRATIONS_TABLE = 'live_call_guard_migrations';

/** The schema the layer's migrations run for (set by migrateLayer around knex's run; knex runs migrations one at a time under its lock). */
let targetSchema: string | undefined;
const inSchema = (knex: Knex) => (targetSchema ? knex.schema.withSchema(targetSchema) : knex.schema);

const streamClaims: Knex.Migration = {
  async up(knex) {
    await inSchema(knex).createTable(STREAM_CLAIMS_TABLE, (t) => {
      t.text('stream_key').primary();
      t.text('call_sid').notNullable();
      t.text('tenant_id').notNullable();
      t.timestamp('claimed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.index(['claimed_at']);
    });
  },
  async down(knex) {
    await inSchema(knex).dropTable(STREAM_CLAIMS_TABLE);
  },
};

const MIGRATIONS: ReadonlyArray<readonly [string, Knex.Migration]> = [['001_live_call_stream_claims', streamClaims]];

/**
 * The layer's migrations as a Knex migration source: run them with
 * {@link migrateLayer}, or hand them to your own migrator (with
 * `tableName: LAYER_MIGRATIONS_TABLE`, or your own table).
 */
export const layerMigrations: Knex.MigrationSource<string> = {
  getMigrations: async () => MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = MIGRATIONS.find(([candidate]) => candidate === name);
    if (!found) throw new Error(`unknown live-call-guard migration ${name}`);
    return found[1];
  },
};

/**
 * Creates (or updates) the layer's table, `live_call_stream_claims`: one row
 * per media stream that started, so a replayed stream is refused. Its own
 * migrations table (`live_call_guard_migrations`) keeps it apart from the
 * app's. Idempotent; safe when processes race (Knex's migration lock).
 * Rows older than a stream token's life (5 minutes) may be deleted at will.
 * @returns the migrations applied now.
 */
export async function migrateLayer(knex: Knex, options: MigrateLayerOptions = {}): Promise<string[]> {
  const { schema } = options;
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) {
    throw new ConfigError(`migrateLayer schema must be an identifier (received ${JSON.stringify(schema)})`);
  }
  targetSchema = schema;
  try {
    const [, applied] = (await knex.migrate.latest({
      migrationSource: layerMigrations,
      tableName: LAYER_MIGRATIONS_TABLE,
      ...(schema ? { schemaName: schema } : {}),
    })) as [number, string[]];
    return applied;
  } finally {
    targetSchema = undefined;
  }
}

export interface MigrateLayerOptions {
  /**
   * The schema the layer's tables (and its migrations table) live in: the
   * app's own, so a role that owns only its schema can run it. It must
   * exist. Default: the first schema of the connection's `search_path`.
   * Give loadContext (or the media stream) the same schema for its claim.
   */
  schema?: string;
}
