import type { Knex } from 'knex';

/**
 * Bookings that never collide and never vanish. The database is the final
 * arbiter across processes: an exclusion constraint makes two booked
 * appointments of one business that overlap in time impossible — any
 * overlap, not only the same start, so it holds whatever slot grid an
 * agent uses (btree_gist lets the business id share the gist index). A
 * booking that loses the race is kept, as `status = 'conflict'` (outside
 * the constraint), beside a callback task for the business.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create extension if not exists btree_gist');
  await knex.schema.alterTable('appointments', (t) => {
    t.text('status').notNullable().defaultTo('booked');
    t.check(`status in ('booked', 'conflict')`, [], 'appointments_status_check');
  });
  await knex.raw(`alter table appointments add constraint appointments_no_overlap
    exclude using gist (business_id with =, tstzrange(starts_at, ends_at) with &&) where (status = 'booked')`);

  await knex.schema.createTable('callback_tasks', (t) => {
    t.increments('id');
    t.integer('business_id').notNullable().references('id').inTable('businesses').onDelete('CASCADE');
    t.integer('lead_id');
    t.text('call_sid').notNullable();
    t.text('reason').notNullable();
    t.text('idempotency_key').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['lead_id', 'business_id']).references(['id', 'tenant_id']).inTable('leads');
    t.index(['business_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('callback_tasks');
  await knex.raw('alter table appointments drop constraint if exists appointments_no_overlap');
  await knex.schema.alterTable('appointments', (t) => {
    t.dropChecks(['appointments_status_check']);
    t.dropColumn('status');
  });
}
