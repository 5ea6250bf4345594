// An adopter's app, from the packed tarball: its own schema (orders, UUID
// tenants), the ready-made SDK with the guard, the call layer (createCallLayer),
// one simulated call, then the offline check over the trace file.
// Type-checked under moduleResolution node16 and bundler; run from its
// node16 build: node out/call.js (DATABASE_URL, LIVE_CALL_TRACE_FILE, JOURNAL_DIR).
import { startTelemetry } from 'live-call-guard/sdk';
// Types only: erased, so nothing loads before the SDK starts.
import type { Agent } from 'live-call-guard/twilio';

// The SDK first: pg must load after it.
const telemetry = startTelemetry({ serviceName: 'adopter', guard: { mode: 'block' } });

const { randomUUID } = await import('node:crypto');
const { context } = await import('@opentelemetry/api');
const { z } = await import('zod');
const { default: knexFactory } = await import('knex');
const { default: express } = await import('express');
const { default: expressWs } = await import('express-ws');
const { defineCallApp, defineWrite, migrateLayer, createLogger, ErrorCodes } = await import('live-call-guard');
const { GUARD_MODES, getLiveCall } = await import('live-call-guard/guard');
const { createCallLayer } = await import('live-call-guard/twilio');
const { TwilioStreamClient, parseStreamTwiml } = await import('live-call-guard/testing');
const { checkTraces, checkVerdict } = await import('live-call-guard/check');

const knex = knexFactory({ client: 'pg', connection: process.env.DATABASE_URL, version: '18', pool: { min: 0, max: 2 } });
// The layer's own table (stream claims), in its own migrations table, next to the app's.
await migrateLayer(knex);
await knex.schema.createTable('shops', (t) => {
  t.uuid('id').primary();
  t.text('name').notNullable();
});
await knex.schema.createTable('orders', (t) => {
  t.uuid('shop_id').notNullable();
  t.text('call_sid').notNullable();
  t.text('idempotency_key').notNullable().unique();
  t.text('item').notNullable();
});
const shopId = randomUUID();
await knex('shops').insert({ id: shopId, name: 'Corner Pizza' });

const writes = {
  takeOrder: defineWrite({
    schema: z.object({ item: z.string().min(1) }),
    table: 'orders',
    kind: 'insert',
    tenantColumn: 'shop_id',
    idempotencyColumn: 'idempotency_key',
    row: (data, call) => ({ call_sid: call.callSid, item: data.item }),
  }),
};
const app = defineCallApp({
  tenant: z.string().uuid(),
  context: {
    query: (db, start) => db('shops').where({ id: start.tenantId }).first('name'),
    fromRow: (row) => ({ shopName: String(row.name) }),
  },
  writes,
});
type Shop = { shopName: string };

const liveWhileMedia: boolean[] = [];
const agent: Agent<Shop, typeof writes, string> = {
  startCall(call) {
    call.mark(`hello ${call.context?.shopName ?? 'nobody'}`);
    return {
      onDtmf(digit) {
        liveWhileMedia.push(getLiveCall(context.active()) !== undefined);
        call.writes.enqueue('takeOrder', { item: digit === '1' ? 'margherita' : 'marinara' });
        call.mark('ordered');
      },
    };
  },
};

const logger = createLogger({ level: 'warn' });
const streamSecret = randomUUID();
// The layer's lifecycle in one object: journal probe + recovery at start, the one right order at stop.
const layer = createCallLayer({ knex, app, agent, journal: process.env.JOURNAL_DIR!, logger, streamSecret });
await layer.start();
const server = expressWs(express(), undefined, { wsOptions: { verifyClient: layer.verifyClient } });
server.app.ws('/media', layer.handler);
const http = server.app.listen(0, '127.0.0.1');
await new Promise<void>((resolve) => http.once('listening', () => resolve()));
const { port } = http.address() as { port: number };

const callSid = `CA${'0'.repeat(31)}1`;
const flushed = new Promise<void>((resolve) => layer.flusher.on('flushed', (event) => event.callSid === callSid && resolve()));
// What the voice webhook answers, and what Twilio does with it.
const answer = layer.twiml({ callSid, parameters: { tenant_id: shopId }, url: '/twiml', signature: undefined, form: {}, origin: `http://127.0.0.1:${port}` });
const stream = parseStreamTwiml(answer.body);
if (!stream) throw new Error('the TwiML has no Stream');
const client = await TwilioStreamClient.connect(stream.url, { answerMarks: 'immediately' });
client.connected();
client.start({ callSid, streamSid: `MZ${'0'.repeat(31)}1`, customParameters: stream.parameters });
await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'hello Corner Pizza');
client.dtmf('1');
await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'ordered');
client.stop(callSid);
await flushed;
const orders = await knex('orders').select('shop_id', 'call_sid', 'item');

client.close();
await layer.drain(1_000);
await new Promise((resolve) => http.close(resolve));
await layer.stop();
await telemetry.shutdown();
await knex.destroy();
const traces = await checkTraces([process.env.LIVE_CALL_TRACE_FILE!]);
const verdict = checkVerdict(traces, { allowNoCalls: false });
process.stdout.write(
  `${JSON.stringify({ orders, shopId, liveWhileMedia, modes: GUARD_MODES, code: ErrorCodes.LIVE_CALL_DB_ACCESS, liveCalls: traces.liveCalls.length, violations: traces.violations.length, verdict: verdict.code })}\n`,
);
