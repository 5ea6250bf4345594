import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receptionistContext } from '../../reference/context.js';
import { createKnex } from '../../reference/db/knex.js';
import { loadContext } from '../../src/context/load-context.js';
import { STREAM_CLAIMS_TABLE } from '../../src/context/stream-claims.js';
import { CallContextLoadError } from '../../src/errors.js';
import { insertTenants, type Tenants } from '../buffer/fixture-data.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

describe('loadContext deadline', () => {
  let db: TestDatabase;
  let t: Tenants;
  let oneConnection: Knex;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await insertTenants(db.knex);
    oneConnection = createKnex(db.url, { poolMax: 1 });
  });
  afterAll(async () => {
    await oneConnection.destroy();
    await db.drop();
  });

  const load = (knex: Knex, streamKey: string, timeoutMs: number) =>
    loadContext(knex, receptionistContext, { callSid: 'CA_DEADLINE', streamSid: 'MZ_DEADLINE', tenantId: t.a, parameters: {} }, { streamKey, timeoutMs });

  it('a load that times out waiting for a connection claims nothing: the stream is not claimed later, and a retry of it is no replay', async () => {
    const busy = await oneConnection.transaction(); // the pool's only connection
    try {
      const error = await load(oneConnection, 'stream:MZ_LATE', 100).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CallContextLoadError);
      expect((error as Error).message).toMatch(/longer than 100 ms/);
    } finally {
      await busy.rollback();
    }
    // The pool hands out its connection in order: whatever the timed-out load left queued has run by now.
    await oneConnection.raw('select 1');
    expect(await db.knex(STREAM_CLAIMS_TABLE).where({ stream_key: 'stream:MZ_LATE' })).toEqual([]);
    await expect(load(oneConnection, 'stream:MZ_LATE', 5_000)).resolves.toMatchObject({ business: expect.anything() });
  });
});
