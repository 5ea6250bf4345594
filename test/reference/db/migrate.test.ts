import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateLayer } from '../../../src/index.js';
import { migrate } from '../../../reference/db/migrate.js';
import { seedDemoData } from '../../../reference/db/seed.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

describe('migrate', () => {
  let empty: TestDatabase;

  beforeAll(async () => {
    empty = await createTestDatabase({ migrated: false });
  });
  afterAll(async () => {
    await empty.drop();
  });

  it('runs forward on an empty database, then is idempotent', async () => {
    expect(await migrate(empty.knex)).toEqual(['001_initial_schema', '002_bookings', '003_call_transcripts']);
    expect(await migrate(empty.knex)).toEqual([]);
    const tables = (await empty
      .knex('information_schema.tables')
      .where({ table_schema: 'public' })
      .pluck('table_name')) as string[];
    expect(tables).toEqual(
      expect.arrayContaining(['businesses', 'business_settings', 'leads', 'call_logs', 'call_sessions', 'appointments']),
    );
  });
});

describe('schema constraints', () => {
  let db: TestDatabase;
  let businessA: number;
  let businessB: number;
  let leadOfB: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    [businessA, businessB] = (
      (await db.knex('businesses').insert([
        { name: 'A', phone_number: '+1000' },
        { name: 'B', phone_number: '+2000' },
      ]).returning('id')) as Array<{ id: number }>
    ).map((row) => row.id) as [number, number];
    [{ id: leadOfB }] = (await db.knex('leads').insert({ tenant_id: businessB, full_name: 'Bea' }).returning('id')) as [
      { id: number },
    ];
  });
  afterAll(async () => {
    await db.drop();
  });

  it("the layer's migrations keep their own table, beside the app's", async () => {
    const fresh = await createTestDatabase({ migrated: false });
    try {
      expect(await migrateLayer(fresh.knex)).toEqual(['001_live_call_stream_claims', '002_live_call_stream_claims_expiry']);
      expect(await migrate(fresh.knex)).toEqual(['001_initial_schema', '002_bookings', '003_call_transcripts']);
      expect(await migrateLayer(fresh.knex)).toEqual([]);
      const names = async (table: string) => ((await fresh.knex(table).select('name')) as Array<{ name: string }>).map((row) => row.name);
      expect(await names('live_call_guard_migrations')).toEqual(['001_live_call_stream_claims', '002_live_call_stream_claims_expiry']);
      expect(await names('knex_migrations')).toEqual(['001_initial_schema', '002_bookings', '003_call_transcripts']);
    } finally {
      await fresh.drop();
    }
  });

  it('keeps call_logs.call_sid unique', async () => {
    await db.knex('call_logs').insert({ call_sid: 'CA-unique', business_id: businessA });
    await expect(db.knex('call_logs').insert({ call_sid: 'CA-unique', business_id: businessB })).rejects.toMatchObject({
      code: '23505',
      constraint: 'call_logs_call_sid_unique',
    });
  });

  it('keeps appointments.idempotency_key unique', async () => {
    const appointment = {
      business_id: businessA,
      title: 'Cleaning',
      starts_at: '2026-12-01T10:00:00Z',
      ends_at: '2026-12-01T10:30:00Z',
      idempotency_key: 'CA-1:1',
    };
    await db.knex('appointments').insert(appointment);
    await expect(db.knex('appointments').insert(appointment)).rejects.toMatchObject({ code: '23505' });
  });

  it("refuses to attach a business's call, session or appointment to another business's lead", async () => {
    await expect(
      db.knex('call_logs').insert({ call_sid: 'CA-cross', business_id: businessA, lead_id: leadOfB }),
    ).rejects.toMatchObject({ code: '23503' });
    await expect(
      db.knex('call_sessions').insert({ call_sid: 'CA-cross', business_id: businessA, lead_id: leadOfB }),
    ).rejects.toMatchObject({ code: '23503' });
    await expect(
      db.knex('appointments').insert({
        business_id: businessA,
        lead_id: leadOfB,
        title: 'x',
        starts_at: '2027-06-01T10:00:00Z',
        ends_at: '2027-06-01T11:00:00Z',
        idempotency_key: 'CA-cross:1',
      }),
    ).rejects.toMatchObject({ code: '23503' });
    await db.knex('call_logs').insert({ call_sid: 'CA-same', business_id: businessB, lead_id: leadOfB });
  });

  it('refuses an appointment that ends before it starts, and an unknown direction', async () => {
    await expect(
      db.knex('appointments').insert({
        business_id: businessA,
        title: 'x',
        starts_at: '2026-12-01T11:00:00Z',
        ends_at: '2026-12-01T10:00:00Z',
        idempotency_key: 'CA-order:1',
      }),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      db.knex('call_logs').insert({ call_sid: 'CA-dir', business_id: businessA, direction: 'sideways' }),
    ).rejects.toMatchObject({ code: '23514' });
  });
});

describe('seedDemoData', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('seeds an empty database exactly once, even when callers race', async () => {
    const results = await Promise.all([seedDemoData(db.knex), seedDemoData(db.knex), seedDemoData(db.knex)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await seedDemoData(db.knex)).toBe(false);

    const businesses = await db.knex('businesses').count<[{ count: string }]>('* as count');
    expect(Number(businesses[0].count)).toBeGreaterThanOrEqual(2);
    const settings = (await db.knex('business_settings').select('opening_hours_json')) as Array<{
      opening_hours_json: Record<string, unknown>;
    }>;
    expect(settings).toHaveLength(Number(businesses[0].count));
    for (const row of settings) expect(Object.keys(row.opening_hours_json).length).toBeGreaterThan(0);
    const leads = (await db.knex('leads').pluck('full_name')) as string[];
    expect(leads.every((name) => name.trim().length > 0)).toBe(true);
    const calls = await db.knex('call_logs').count<[{ count: string }]>('* as count');
    expect(Number(calls[0].count)).toBeGreaterThan(0);
  });
});
