import { context as otel } from '@opentelemetry/api';
import knexFactory, { type Knex } from 'knex';
import { CallDbReport, runInCallPhase, withCallDbReport } from '../../src/guard/call-db-report.js';
import { pgSpans } from '../helpers/spans.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKnex } from '../../reference/db/knex.js';
import { loadContext } from '../../src/context/load-context.js';
import { migrateLayer } from '../../src/context/stream-claims.js';
import { StreamReplayError } from '../../src/errors.js';
import { databaseUrl } from '../helpers/database-names.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe("the layer's table in the app's schema, with a role that owns only that schema", () => {
  let db: TestDatabase;
  let role: string;
  let app: Knex;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    role = `${db.name}_vet`.slice(0, 60);
    await db.knex.raw(`create role ?? login password 'vet'`, [role]);
    await db.knex.raw('revoke create on schema public from public');
    await db.knex.raw('create schema vet authorization ??', [role]);
    const url = new URL(databaseUrl(db.url, db.name));
    url.username = role;
    url.password = 'vet';
    // Fresh connections each: knex sends `set search_path` on every new one.
    app = knexFactory({ client: 'pg', version: '15', connection: url.toString(), searchPath: ['vet'], pool: { min: 0, max: 4 } });
    await app.raw('create table vet.practices (slug text primary key, name text not null)');
    await app.raw(`insert into vet.practices values ('happy-paws', 'Happy Paws')`);
  });
  afterAll(async () => {
    await app?.destroy();
    await db.drop();
    const admin = createKnex(inject('databaseAdminUrl'), { poolMax: 1 });
    try {
      await admin.raw('drop role if exists ??', [role]);
    } finally {
      await admin.destroy();
    }
  });

  it('migrateLayer({ schema }) creates the claims table there; a burst of starts claims each stream once, a replay is refused', async () => {
    await expect(migrateLayer(app)).resolves.toEqual(['001_live_call_stream_claims', '002_live_call_stream_claims_expiry']); // through search_path: vet
    await expect(migrateLayer(app, { schema: 'vet' })).resolves.toEqual([]);
    expect((await db.knex.raw("select table_schema from information_schema.tables where table_name = 'live_call_stream_claims'")).rows).toEqual([
      { table_schema: 'vet' },
    ]);
    const context = { query: (knex: Knex, start: { tenantId: string }) => knex('practices').where({ slug: start.tenantId }).select('name') };
    const start = (n: number) => ({ callSid: `CA_VET_${n}`, streamSid: `MZ_VET_${n}`, tenantId: 'happy-paws', parameters: {} });
    const loaded = await Promise.all([1, 2, 3, 4].map((n) => loadContext(app, context, start(n), { streamKey: `stream:MZ_VET_${n}`, claimsSchema: 'vet', timeoutMs: 5000 })));
    expect(loaded).toEqual([1, 2, 3, 4].map(() => ({ name: 'Happy Paws' })));
    await expect(loadContext(app, context, start(1), { streamKey: 'stream:MZ_VET_1', claimsSchema: 'vet', timeoutMs: 5000 })).rejects.toBeInstanceOf(StreamReplayError);
    expect(Number((await db.knex('vet.live_call_stream_claims').count({ n: '*' }))[0]!.n)).toBe(4);
  });

  it("a burst of starts on fresh connections: knex's `set search_path` and version probe are not counted against the one start statement", async () => {
    const url = new URL(databaseUrl(db.url, db.name));
    url.username = role;
    url.password = 'vet';
    // No `version`: knex probes it on its first connection; `searchPath`: `set search_path` on each new one.
    const fresh = knexFactory({ client: 'pg', connection: url.toString(), searchPath: ['vet'], pool: { min: 0, max: 4 } });
    try {
      const context = { query: (knex: Knex, start: { tenantId: string }) => knex('practices').where({ slug: start.tenantId }).select('name') };
      const reports = [5, 6, 7, 8].map(() => new CallDbReport());
      await Promise.all(
        reports.map((report, n) =>
          otel.with(withCallDbReport(report), () =>
            runInCallPhase('load', () =>
              loadContext(fresh, context, { callSid: `CA_VET_${n + 5}`, streamSid: null, tenantId: 'happy-paws', parameters: {} }, {
                streamKey: `stream:MZ_VET_${n + 5}`,
                claimsSchema: 'vet',
                timeoutMs: 5000,
              }),
            ),
          ),
        ),
      );
      expect(reports.map((report) => report.figures().queries.load)).toEqual([1, 1, 1, 1]);
      const setup = pgSpans().filter((span) => /set search_path/i.test(String(span.attributes['db.query.text'] ?? span.attributes['db.statement'] ?? '')));
      expect(setup.length).toBeGreaterThanOrEqual(1);
    } finally {
      await fresh.destroy();
    }
  });

  it('refuses a schema that is not an identifier', async () => {
    await expect(migrateLayer(app, { schema: 'vet; drop' })).rejects.toThrow(/migrateLayer schema must be an identifier/);
  });
});
