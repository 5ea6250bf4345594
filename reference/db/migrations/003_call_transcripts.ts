import type { Knex } from 'knex';

/**
 * The conversation of a voice-AI call (the Realtime agent): one row per
 * entry — what the caller said, what the assistant said, each tool call with
 * its answer, the bridge's notes (barge-in, the model lost) — written in the
 * call's end-of-call transaction, once (the idempotency key).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('call_transcripts', (t) => {
    t.increments('id');
    t.integer('business_id').notNullable().references('id').inTable('businesses').onDelete('CASCADE');
    t.text('call_sid').notNullable();
    t.integer('position').notNullable();
    t.text('role').notNullable();
    t.text('text').notNullable();
    t.text('item_id');
    t.text('tool_name');
    t.boolean('tool_ok');
    t.timestamp('spoken_at', { useTz: true }).notNullable();
    t.text('idempotency_key').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check(`role in ('caller', 'assistant', 'tool', 'event')`, [], 'call_transcripts_role_check');
    t.index(['business_id', 'call_sid', 'position']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('call_transcripts');
}
