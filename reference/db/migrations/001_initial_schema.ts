import type { Knex } from 'knex';

/**
 * The data model of DESIGN.md. Tenant safety is in the schema: every tenant
 * row carries its business, and a lead referenced by a call, a session or an
 * appointment must belong to the same business (composite foreign keys).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('businesses', (t) => {
    t.increments('id');
    t.text('name').notNullable();
    t.text('phone_number').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('business_settings', (t) => {
    t.integer('tenant_id').primary().references('id').inTable('businesses').onDelete('CASCADE');
    t.jsonb('opening_hours_json').notNullable().defaultTo('{}');
    t.text('working_hours');
    t.text('greeting');
    t.text('prompt');
    t.text('timezone').notNullable().defaultTo('UTC');
  });

  await knex.schema.createTable('leads', (t) => {
    t.increments('id');
    t.integer('tenant_id').notNullable().references('id').inTable('businesses').onDelete('CASCADE');
    t.text('full_name');
    t.text('first_name');
    t.text('customer_name');
    t.text('phone');
    t.text('gender');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['id', 'tenant_id']);
    t.index(['tenant_id', 'phone']);
  });

  await knex.schema.createTable('call_logs', (t) => {
    t.increments('id');
    t.text('call_sid').notNullable().unique();
    t.integer('business_id').notNullable().references('id').inTable('businesses').onDelete('CASCADE');
    t.integer('lead_id');
    t.text('direction').notNullable().defaultTo('inbound');
    t.text('status').notNullable().defaultTo('initiated');
    t.integer('duration_seconds');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('ended_at', { useTz: true });
    t.foreign(['lead_id', 'business_id']).references(['id', 'tenant_id']).inTable('leads');
    t.check(`direction in ('inbound', 'outbound')`, [], 'call_logs_direction_check');
    t.index(['business_id', 'started_at']);
  });

  await knex.schema.createTable('call_sessions', (t) => {
    t.text('call_sid').primary();
    t.integer('business_id').notNullable().references('id').inTable('businesses').onDelete('CASCADE');
    t.integer('lead_id');
    t.jsonb('state').notNullable().defaultTo('{}');
    t.text('summary');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['lead_id', 'business_id']).references(['id', 'tenant_id']).inTable('leads');
  });

  await knex.schema.createTable('appointments', (t) => {
    t.increments('id');
    t.integer('business_id').notNullable().references('id').inTable('businesses').onDelete('CASCADE');
    t.integer('lead_id');
    t.text('call_sid');
    t.timestamp('starts_at', { useTz: true }).notNullable();
    t.timestamp('ends_at', { useTz: true }).notNullable();
    t.text('title').notNullable();
    t.text('idempotency_key').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['lead_id', 'business_id']).references(['id', 'tenant_id']).inTable('leads');
    t.check('ends_at > starts_at', [], 'appointments_time_order_check');
    t.index(['business_id', 'starts_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['appointments', 'call_sessions', 'call_logs', 'leads', 'business_settings', 'businesses']) {
    await knex.schema.dropTableIfExists(table);
  }
}
