import type { Knex } from 'knex';
import { z } from 'zod';
import { defineWrite } from '../../src/buffer/write-operation.js';

/**
 * A second adopter's schema as real ones are: schema `clinic`, prefixed
 * tables, TEXT tenant slugs, uuid and jsonb columns, `(tenant, key)` unique
 * indexes, a foreign key between two written tables.
 */
export async function createClinicSchema(knex: Knex): Promise<void> {
  await knex.raw(`
    create schema clinic;
    create table clinic.vet_practices (slug text primary key);
    create table clinic.vet_owners (
      id uuid primary key default gen_random_uuid(),
      practice_slug text not null references clinic.vet_practices,
      owner_phone text not null,
      name text,
      notes jsonb,
      unique (practice_slug, owner_phone));
    create table clinic.vet_visits (
      id uuid primary key default gen_random_uuid(),
      practice_slug text not null references clinic.vet_practices,
      owner_phone text not null,
      reason text not null check (length(reason) <= 40),
      idempotency_key text not null unique,
      foreign key (practice_slug, owner_phone) references clinic.vet_owners (practice_slug, owner_phone));
    insert into clinic.vet_practices values ('happy-paws'), ('other-vet');`);
}

export const clinicWrites = {
  /** Keyed within the tenant: the index is (practice_slug, owner_phone). */
  saveOwner: defineWrite({
    schema: z.object({ phone: z.string(), name: z.string() }),
    table: 'clinic.vet_owners',
    kind: 'upsert',
    key: ['practice_slug', 'owner_phone'],
    tenantColumn: 'practice_slug',
    row: ({ phone, name }) => ({ owner_phone: phone, name }),
  }),
  /** The same index, declared without the tenant column: the check finds it. */
  noteOwner: defineWrite({
    schema: z.object({ phone: z.string(), notes: z.record(z.string(), z.string()) }),
    table: 'clinic.vet_owners',
    kind: 'upsert',
    key: ['owner_phone'],
    tenantColumn: 'practice_slug',
    merge: { notes: 'json' },
    row: ({ phone, notes }) => ({ owner_phone: phone, notes }),
  }),
  renameOwner: defineWrite({
    schema: z.object({ id: z.string(), name: z.string() }),
    table: 'clinic.vet_owners',
    kind: 'update',
    key: ['id'],
    tenantColumn: 'practice_slug',
    row: ({ id, name }) => ({ id, name }),
  }),
  bookVisit: defineWrite({
    schema: z.object({ phone: z.string(), reason: z.string() }),
    table: 'clinic.vet_visits',
    kind: 'insert',
    tenantColumn: 'practice_slug',
    idempotencyColumn: 'idempotency_key',
    row: ({ phone, reason }) => ({ owner_phone: phone, reason }),
  }),
};

export const clinicTenant = z.string().regex(/^[a-z-]+$/);
