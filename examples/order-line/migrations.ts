import type { Knex } from 'knex';
import { migrateLayer } from '../../src/index.js';

/** The order line's own migrations table: next to the layer's `live_call_guard_migrations`, never knex's default. */
export const ORDER_LINE_MIGRATIONS_TABLE = 'order_line_migrations';
/** The order line's schema: its tables, the layer's table and both migrations tables live there, not in `public`. */
export const ORDER_LINE_SCHEMA = 'order_line';

/**
 * The order line's schema. UUID tenants (`shops`); every other table holds
 * `shop_id`, and rows that point at each other carry it in their foreign
 * keys (`(shop_id, customer_id)`), so an order can never name another
 * shop's customer, whatever writes it.
 */
const schema: Knex.Migration = {
  async up(knex) {
    const inSchema = () => knex.schema.withSchema(ORDER_LINE_SCHEMA);
    const table = (name: string) => `${ORDER_LINE_SCHEMA}.${name}`;
    await inSchema().createTable('shops', (t) => {
      t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
      t.text('name').notNullable();
      t.text('phone').notNullable().unique();
    });
    await inSchema().createTable('menu_items', (t) => {
      t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
      t.uuid('shop_id').notNullable().references('id').inTable(table('shops')).onDelete('CASCADE');
      t.text('sku').notNullable();
      t.text('name').notNullable();
      t.integer('price_cents').notNullable().checkPositive();
      /** The keypad position the caller presses (1-9). */
      t.smallint('position').notNullable();
      t.unique(['shop_id', 'sku']);
      t.unique(['shop_id', 'position']);
    });
    await inSchema().createTable('customers', (t) => {
      t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
      t.uuid('shop_id').notNullable().references('id').inTable(table('shops')).onDelete('CASCADE');
      t.text('phone').notNullable();
      t.text('display_name');
      t.unique(['shop_id', 'phone']);
      t.unique(['shop_id', 'id']);
    });
    await inSchema().createTable('orders', (t) => {
      t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
      t.uuid('shop_id').notNullable().references('id').inTable(table('shops')).onDelete('CASCADE');
      t.text('call_sid').notNullable().index();
      t.text('idempotency_key').notNullable().unique();
      t.uuid('customer_id');
      t.jsonb('items').notNullable();
      t.integer('total_cents').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.foreign(['shop_id', 'customer_id']).references(['shop_id', 'id']).inTable(table('customers'));
    });
    await inSchema().createTable('callback_requests', (t) => {
      t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
      t.uuid('shop_id').notNullable().references('id').inTable(table('shops')).onDelete('CASCADE');
      t.text('call_sid').notNullable();
      t.text('phone');
      t.text('reason').notNullable();
      t.timestamp('requested_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      // Keyed within the tenant: the upsert requestCallback conflicts on (shop_id, call_sid).
      t.unique(['shop_id', 'call_sid']);
    });
  },
  async down(knex) {
    for (const table of ['callback_requests', 'orders', 'customers', 'menu_items', 'shops']) await knex.schema.withSchema(ORDER_LINE_SCHEMA).dropTable(table);
  },
};

const MIGRATIONS: ReadonlyArray<readonly [string, Knex.Migration]> = [['001_order_line_schema', schema]];

/** The order line's migrations as a Knex migration source (no directory to scan, nothing to clash with). */
export const orderLineMigrations: Knex.MigrationSource<string> = {
  getMigrations: async () => MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = MIGRATIONS.find(([candidate]) => candidate === name);
    if (!found) throw new Error(`unknown order-line migration ${name}`);
    return found[1];
  },
};

/**
 * Migrates the layer's table (its own migrations table) and the order
 * line's tables (theirs) on one database. Idempotent.
 * @returns the migrations applied now, the layer's first.
 */
export async function migrateOrderLine(knex: Knex): Promise<string[]> {
  await knex.raw('create schema if not exists ??', [ORDER_LINE_SCHEMA]);
  const layer = await migrateLayer(knex, { schema: ORDER_LINE_SCHEMA });
  const [, own] = (await knex.migrate.latest({
    migrationSource: orderLineMigrations,
    tableName: ORDER_LINE_MIGRATIONS_TABLE,
    schemaName: ORDER_LINE_SCHEMA,
  })) as [number, string[]];
  return [...layer, ...own];
}
