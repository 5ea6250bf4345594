import type { Knex } from 'knex';

/**
 * One row per media stream that started: the call-start statement claims
 * its stream key (the stream token's nonce, or the stream sid without a
 * token) in the same statement that loads the context, so a replayed stream
 * is refused without a query while any call is live, across processes and
 * restarts. Rows older than a stream token's life can be deleted at will.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('stream_claims', (t) => {
    t.text('stream_key').primary();
    t.text('call_sid').notNullable();
    t.integer('business_id').notNullable();
    t.timestamp('claimed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['claimed_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('stream_claims');
}
