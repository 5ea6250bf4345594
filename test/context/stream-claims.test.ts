import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimStream } from '../../src/context/claim-stream.js';
import { layerMigrations, LAYER_MIGRATIONS_TABLE, pruneStreamClaims, STREAM_CLAIMS_TABLE } from '../../src/context/stream-claims.js';
import { StreamReplayError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('stream claims: single use, expiring with their token, pruned', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const claim = (key: string, expiresAt: Date) => ({ key, callSid: 'CAclaims', tenantId: '1', expiresAt });

  it('a claim alone is taken once: the second is a replay; the row keeps the expiry given (the token\'s)', async () => {
    const expiresAt = new Date(Date.UTC(2031, 0, 1, 12));
    await claimStream(db.knex, claim('token:once', expiresAt));
    await expect(claimStream(db.knex, claim('token:once', expiresAt))).rejects.toBeInstanceOf(StreamReplayError);
    const row = await db.knex(STREAM_CLAIMS_TABLE).where({ stream_key: 'token:once' }).first();
    expect(row.expires_at.toISOString()).toBe(expiresAt.toISOString());
  });

  it('pruning deletes expired claims only, at most `limit` a time', async () => {
    const past = new Date(Date.now() - 60_000);
    const future = new Date(Date.now() + 60_000);
    for (const key of ['prune:old1', 'prune:old2', 'prune:old3']) await claimStream(db.knex, claim(key, past));
    await claimStream(db.knex, claim('prune:live', future));
    expect(await pruneStreamClaims(db.knex, { limit: 2 })).toBe(2);
    expect(await pruneStreamClaims(db.knex)).toBe(1);
    expect(await pruneStreamClaims(db.knex)).toBe(0);
    const keys = (await db.knex(STREAM_CLAIMS_TABLE).where('stream_key', 'like', 'prune:%').pluck('stream_key')) as string[];
    expect(keys).toEqual(['prune:live']);
  });

  it('the expiry migration gives claims made before it their token\'s life from when they were claimed', async () => {
    const fresh = await createTestDatabase({ migrated: false });
    try {
      const source = { ...layerMigrations, getMigrations: async () => ['001_live_call_stream_claims'] };
      await fresh.knex.migrate.latest({ migrationSource: source, tableName: LAYER_MIGRATIONS_TABLE });
      await fresh.knex(STREAM_CLAIMS_TABLE).insert({ stream_key: 'token:before', call_sid: 'CA1', tenant_id: '1', claimed_at: new Date(Date.UTC(2030, 0, 1)) });
      await fresh.knex.migrate.latest({ migrationSource: layerMigrations, tableName: LAYER_MIGRATIONS_TABLE });
      const row = await fresh.knex(STREAM_CLAIMS_TABLE).where({ stream_key: 'token:before' }).first();
      expect(row.expires_at.toISOString()).toBe('2030-01-01T00:05:00.000Z');
    } finally {
      await fresh.drop();
    }
  });
});
