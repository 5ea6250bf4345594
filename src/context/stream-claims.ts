import type { Knex } from 'knex';
import { DEFAULTS } from '../defaults.js';
import { ConfigError } from '../errors.js';

/** The layer's one table: the streams that started (see loadContext's `streamKey`). */
export const STREAM_CLAIMS_TABLE = 'live_call_stream_claims';
/** The layer's migrations table: never knex's default, so it sits beside the app's own migrations. */
export const LAYER_MIGRATIONS_TABLE = 'live_call_guard_migrations';

/** The schema the layer's migrations run for (set by migrateLayer around knex's run; knex runs migrations one at a time under its lock). */
let targetSchema: string | undefined;
const inSchema = (knex: Knex) => (targetSchema ? knex.schema.withSchema(targetSchema) : knex.schema);
/** The claims table, qualified by `schema` when one is given. */
export const claimsTable = (schema: string | undefined): string => (schema ? `${schema}.${STREAM_CLAIMS_TABLE}` : STREAM_CLAIMS_TABLE);

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

/** Claims expire with their stream token: `expires_at` (rows before it: claimed_at + the default token life), indexed for the prune. */
const claimExpiry: Knex.Migration = {
  async up(knex) {
    await inSchema(knex).alterTable(STREAM_CLAIMS_TABLE, (t) => {
      t.timestamp('expires_at', { useTz: true }).nullable();
    });
    await knex(claimsTable(targetSchema)).update({ expires_at: knex.raw(`claimed_at + make_interval(secs => ?)`, [DEFAULTS.streamTokenTtlSeconds]) });
    await inSchema(knex).alterTable(STREAM_CLAIMS_TABLE, (t) => {
      t.dropNullable('expires_at');
      t.index(['expires_at']);
      // Pruning reads expires_at: an index on claimed_at would only make each claim's insert dearer.
      t.dropIndex(['claimed_at']);
    });
  },
  async down(knex) {
    await inSchema(knex).alterTable(STREAM_CLAIMS_TABLE, (t) => {
      t.dropColumn('expires_at');
      t.index(['claimed_at']);
    });
  },
};

const MIGRATIONS: ReadonlyArray<readonly [string, Knex.Migration]> = [
  ['001_live_call_stream_claims', streamClaims],
  ['002_live_call_stream_claims_expiry', claimExpiry],
];

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
 * A row expires with its stream token (`expires_at`); expired rows are
 * deleted by {@link pruneStreamClaims} (the media stream runs it on a timer).
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

/** One stream's claim: its key (`token:<nonce>` or `stream:<sid>`), and when it may be forgotten (its token's expiry). */
export interface StreamClaim {
  readonly key: string;
  readonly callSid: string;
  readonly tenantId: string;
  readonly expiresAt: Date;
}

/**
 * The claim as the leading CTEs of one statement: `"__lcg_claim"` yields one
 * row if this statement claimed the key, none if it was claimed before.
 *
 * The claim's commit does not wait for its WAL flush
 * (`synchronous_commit = off` for this transaction only, set in the same
 * statement): it costs a read, not a disk flush. What that gives up: if the
 * database server crashes within ~3 × `wal_writer_delay` (600 ms by default)
 * of the claim, the claim may be lost, and that one token could be presented
 * once more until it expires. Nothing else is written by this transaction.
 */
export function claimCtes(knex: Knex, claim: StreamClaim, schema?: string): Knex.Raw {
  return knex.raw(
    `with "__lcg_async" as (select set_config('synchronous_commit', 'off', true) as "off"),
     "__lcg_claim" as (
       insert into ?? (stream_key, call_sid, tenant_id, expires_at)
       select ?, ?, ?, ? from "__lcg_async"
       on conflict (stream_key) do nothing returning 1)`,
    [claimsTable(schema), claim.key, claim.callSid, claim.tenantId, claim.expiresAt],
  );
}

/** When a claim without a token's expiry (a stream sid's) may be forgotten: a token's life from now. */
export function defaultClaimExpiry(now = Date.now()): Date {
  return new Date(now + DEFAULTS.streamTokenTtlSeconds * 1000);
}

/**
 * Deletes up to `limit` expired claims (`expires_at` passed: their token is
 * refused as expired anyway). Never runs on a call's path: the media stream
 * runs it on an unref'd timer (`claimsPruneIntervalMs`), outside any call.
 * @returns the rows deleted.
 */
export async function pruneStreamClaims(knex: Knex, options: { limit?: number; timeoutMs?: number; schema?: string } = {}): Promise<number> {
  const limit = options.limit ?? DEFAULTS.claimsPruneBatch;
  const table = claimsTable(options.schema);
  const deleted = await knex(table)
    .whereIn('stream_key', knex(table).select('stream_key').where('expires_at', '<', knex.fn.now()).limit(limit))
    .delete()
    .timeout(options.timeoutMs ?? DEFAULTS.flushStatementTimeoutMs, { cancel: true });
  return Number(deleted);
}
