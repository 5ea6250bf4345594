import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkWriteSchema } from '../../src/buffer/schema-check.js';
import { defineWrite, type WriteOperations } from '../../src/buffer/write-operation.js';
import { ConfigError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { clinicTenant, clinicWrites, createClinicSchema } from './clinic-schema.js';

const any = z.object({});
const row = () => ({});

describe('checkWriteSchema: the declared writes against the database, at start', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    await createClinicSchema(db.knex);
    await db.knex.raw('create table clinic.no_index (id serial, practice_slug text, idem text, n int, slot int, unique (slot))');
    await db.knex.raw('create table clinic.int_tenant (id serial primary key, tenant_id int not null, idem text unique)');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('accepts the clinic: (tenant, key) upserts conflict on the index columns, the visit depends on the owner (foreign key)', async () => {
    const checked = await checkWriteSchema(db.knex, clinicWrites, { tenantSchema: clinicTenant });
    expect(checked.conflictTargets).toEqual({ saveOwner: ['practice_slug', 'owner_phone'], noteOwner: ['practice_slug', 'owner_phone'] });
    expect(checked.dependsOn.bookVisit).toEqual(['saveOwner', 'noteOwner', 'renameOwner']);
    expect(checked.dependsOn.saveOwner).toEqual([]);
  });

  it('refuses each mismatch with one line naming the operation and what is missing', async () => {
    const bad: WriteOperations = {
      noTable: defineWrite({ schema: any, table: 'clinic.nope', kind: 'insert', tenantColumn: 't', idempotencyColumn: 'k', row }),
      noColumn: defineWrite({ schema: any, table: 'clinic.vet_owners', kind: 'update', key: ['owner_id'], tenantColumn: 'practice_slug', row }),
      noUnique: defineWrite({ schema: any, table: 'clinic.no_index', kind: 'upsert', key: ['n'], tenantColumn: 'practice_slug', row }),
      noIdemIndex: defineWrite({ schema: any, table: 'clinic.no_index', kind: 'insert', tenantColumn: 'practice_slug', idempotencyColumn: 'idem', row }),
      noConflictTarget: defineWrite({
        schema: any,
        table: 'clinic.vet_practices',
        kind: 'insert',
        tenantColumn: 'slug',
        idempotencyColumn: 'slug',
        onConflict: () => ({}),
        row,
      }),
      wrongTenantType: defineWrite({ schema: any, table: 'clinic.int_tenant', kind: 'insert', tenantColumn: 'tenant_id', idempotencyColumn: 'idem', row }),
    };
    const error = await checkWriteSchema(db.knex, bad, { tenantSchema: clinicTenant }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    const lines = message.replace(/^the database does not match the declared writes: /, '').split('; ');
    expect(lines).toEqual([
      'write operation "noTable": table clinic.nope does not exist (search_path: as the knex connection resolves it)',
      'write operation "noColumn": clinic.vet_owners has no column owner_id',
      'write operation "noUnique": no unique index or constraint on clinic.no_index (n) or (n, practice_slug): the upsert has no conflict target',
      'write operation "noIdemIndex": the idempotency column clinic.no_index.idem has no unique index of its own',
      "write operation \"noConflictTarget\": onConflict is declared, and clinic.vet_practices has no unique or exclusion constraint besides slug's to conflict on",
      'write operation "wrongTenantType": tenant column clinic.int_tenant.tenant_id (integer) cannot hold every value of the tenant schema (any string): make the schema a uuid, or the column text',
    ]);
  });

  it('a uuid tenant schema fits a uuid or text column, a number schema an integer column, not the other way round', async () => {
    const intOp = { op: defineWrite({ schema: any, table: 'clinic.int_tenant', kind: 'insert', tenantColumn: 'tenant_id', idempotencyColumn: 'idem', row }) };
    await expect(checkWriteSchema(db.knex, intOp, { tenantSchema: z.number().int() })).resolves.toBeDefined();
    await expect(checkWriteSchema(db.knex, intOp, { tenantSchema: z.string().uuid() })).rejects.toThrow(/cannot hold the tenant schema's uuids/);
    await expect(checkWriteSchema(db.knex, clinicWrites, { tenantSchema: z.string().uuid() })).resolves.toBeDefined();
    await expect(checkWriteSchema(db.knex, clinicWrites, { tenantSchema: z.number() })).resolves.toBeDefined();
  });

  it('is one statement', async () => {
    const queries: string[] = [];
    const listener = (query: { sql: string }) => queries.push(query.sql);
    db.knex.on('query', listener);
    try {
      await checkWriteSchema(db.knex, clinicWrites);
    } finally {
      db.knex.off('query', listener);
    }
    expect(queries).toHaveLength(1);
  });
});
