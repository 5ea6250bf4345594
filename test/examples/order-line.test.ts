import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderLineAgent, type OrderLineAgent } from '../../examples/order-line/agent.js';
import { orderLineApp } from '../../examples/order-line/app.js';
import { migrateOrderLine, ORDER_LINE_MIGRATIONS_TABLE, ORDER_LINE_SCHEMA, orderLineMigrations } from '../../examples/order-line/migrations.js';
import type { OrderLineWrites } from '../../examples/order-line/operations.js';
import { seedShop } from '../../examples/order-line/seed.js';
import { startOrderLine, type OrderLineServer } from '../../examples/order-line/server.js';
import { expectNoLiveCallDbAccess, parseStreamTwiml, TwilioStreamClient } from '../../src/testing/index.js';
import { WriteBuffer } from '../../src/buffer/write-buffer.js';
import { LAYER_MIGRATIONS_TABLE } from '../../src/context/stream-claims.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startPgWireCounter, type PgWireCounter, type WireStatement } from '../helpers/pg-wire-counter.js';
import { spanExporter } from '../helpers/spans.js';

const CALLER = '+15557770001'; // a customer of shop A, unknown to shop B
const STREAM_SECRET = 'order-line-test-secret-0123456789abcdef';

let sidCounter = 0;
/** A call sid like Twilio's: CA + 32 hex digits. */
function newCallSid(): string {
  sidCounter += 1;
  return `CA${process.pid.toString(16).padStart(8, '0')}${(0xe0000 + sidCounter).toString(16).padStart(24, '0')}`;
}

/** What a flush's statements are, in order, read off the wire. */
function verbs(statements: readonly WireStatement[]): string[] {
  return statements.map(({ sql }) => {
    const text = sql.trim().toLowerCase();
    if (/^begin\b/.test(text)) return 'BEGIN';
    if (/^commit\b/.test(text)) return 'COMMIT';
    const target = /^(insert into|update)\s+(?:"[a-z_]+"\.)?"([a-z_]+)"/.exec(text);
    return target ? `${target[1]} ${target[2]}` : text.slice(0, 40);
  });
}

/** A pid no process has: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

describe('examples/order-line: an app with its own schema on the public API, end to end', () => {
  let db: TestDatabase;
  let wire: PgWireCounter;
  let server: OrderLineServer;
  let journalDir: string;
  let shopA: string;
  let shopB: string;
  let customerA: string;
  /** What each call's agent enqueued, in order (to replay its flush with the same keys). */
  const enqueued = new Map<string, Array<{ name: keyof OrderLineWrites & string; input: unknown }>>();
  const ended = new Map<string, Promise<void>>();
  const endedResolvers = new Map<string, () => void>();

  /** Resolves when the server is done with the call: socket closed, writes landed, root span ended. */
  function callEnded(callSid: string): Promise<void> {
    let promise = ended.get(callSid);
    if (!promise) {
      promise = new Promise<void>((resolve) => endedResolvers.set(callSid, resolve));
      ended.set(callSid, promise);
    }
    return promise;
  }

  /** Webhook, upgrade, connected, start: the call is loading its context. */
  async function dial(shopId: string, callSid: string, from = CALLER, tamper?: (parameters: Record<string, string>) => void) {
    const response = await fetch(`${server.url}/twiml?shop_id=${shopId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: callSid, From: from, To: '+15550001000' }).toString(),
    });
    expect(response.status).toBe(200);
    const stream = parseStreamTwiml(await response.text());
    if (!stream) throw new Error('the webhook answered no Stream');
    expect(stream.parameters).toMatchObject({ shop_id: shopId, caller: from, token: expect.any(String) });
    const parameters = { ...stream.parameters };
    tamper?.(parameters);
    const client = await TwilioStreamClient.connect(stream.url);
    client.connected();
    const before = wire.statements().length;
    client.start({ callSid, streamSid: `MZ${callSid.slice(2)}`, customParameters: parameters });
    return { client, before };
  }

  /** Sends a digit and waits for the mark that answers it. */
  async function press(client: TwilioStreamClient, digit: string): Promise<string> {
    const before = client.received.length;
    client.dtmf(digit);
    const answer = await client.waitFor((m) => m.event === 'mark' && client.received.indexOf(m) >= before);
    return answer.event === 'mark' ? answer.mark.name : '';
  }

  function traceOfCall(callSid: string): ReadableSpan[] {
    const spans = spanExporter().getFinishedSpans();
    const root = spans.find((span) => span.name === 'media_stream' && span.attributes['call.sid'] === callSid);
    if (!root) throw new Error(`no media_stream span for ${callSid}`);
    return spans.filter((span) => span.spanContext().traceId === root.spanContext().traceId);
  }

  /** Every row the order line holds for a shop, ordered: to compare before and after. */
  async function rowsOf(shopId: string) {
    const k = db.knex;
    return {
      orders: await k('order_line.orders').where({ shop_id: shopId }).orderBy('idempotency_key'),
      callbacks: await k('order_line.callback_requests').where({ shop_id: shopId }).orderBy('call_sid'),
      customers: await k('order_line.customers').where({ shop_id: shopId }).orderBy('phone'),
    };
  }

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    wire = await startPgWireCounter(db.url);
    journalDir = await fs.mkdtemp(path.join(os.tmpdir(), 'order-line-journal-'));
    const inner = orderLineAgent({ recognizeName: () => 'Dana Scully' });
    const agent: OrderLineAgent = {
      startCall(call) {
        const log: Array<{ name: keyof OrderLineWrites & string; input: unknown }> = [];
        enqueued.set(call.callSid, log);
        const writes: typeof call.writes = {
          enqueue: (name, input) => {
            log.push({ name, input });
            return call.writes.enqueue(name, input);
          },
          get size() {
            return call.writes.size;
          },
          get durable() {
            return call.writes.durable;
          },
          get closed() {
            return call.writes.closed;
          },
        };
        return inner.startCall({ ...call, writes });
      },
    };
    server = await startOrderLine({ databaseUrl: wire.url, journalDir, port: 0, streamSecret: STREAM_SECRET, logger: pino({ level: 'silent' }), agent });
    server.media.on('callEnded', ({ callSid }) => {
      if (!callSid) return;
      void callEnded(callSid);
      endedResolvers.get(callSid)?.();
    });
    shopA = await seedShop(db.knex, {
      name: "Luigi's Takeaway",
      phone: '+15550001000',
      menu: [
        { sku: 'margherita', name: 'Margherita', priceCents: 900 },
        { sku: 'diavola', name: 'Diavola', priceCents: 1100 },
        { sku: 'tiramisu', name: 'Tiramisu', priceCents: 550 },
      ],
      customers: [{ phone: CALLER, displayName: null }],
    });
    shopB = await seedShop(db.knex, {
      name: 'Golden Dragon',
      phone: '+15550002000',
      menu: [{ sku: 'dumplings', name: 'Dumplings', priceCents: 700 }],
    });
    customerA = ((await db.knex('order_line.customers').where({ shop_id: shopA, phone: CALLER }).first('id')) as { id: string }).id;
  });

  afterAll(async () => {
    await server?.close();
    await wire?.close();
    await db?.drop();
    if (journalDir) await fs.rm(journalDir, { recursive: true, force: true });
  });

  it('imports only the public entry points and its own npm dependencies', async () => {
    const dir = path.resolve('examples/order-line');
    const allowed = new Set(['knex', 'express', 'express-ws', 'zod', 'pino', '../../src/index.js', ...['twilio', 'guard', 'sdk', 'check', 'testing'].map((entry) => `../../src/${entry}/index.js`)]);
    for (const file of (await fs.readdir(dir)).filter((name) => name.endsWith('.ts'))) {
      const source = await fs.readFile(path.join(dir, file), 'utf8');
      const specifiers = [...source.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((match) => match[1]!);
      const outside = specifiers.filter((specifier) => !specifier.startsWith('./') && !specifier.startsWith('node:') && !allowed.has(specifier));
      expect(outside, file).toEqual([]);
    }
  });

  it("runs its own migrations next to the layer's, each in its own table, again and again", async () => {
    // The server migrated at start; once more (and the other way round) changes nothing and clashes with nothing.
    expect(await migrateOrderLine(db.knex)).toEqual([]);
    const [, appliedNow] = (await db.knex.migrate.latest({
      tableName: ORDER_LINE_MIGRATIONS_TABLE,
      schemaName: ORDER_LINE_SCHEMA,
      migrationSource: orderLineMigrations,
    })) as [number, string[]];
    expect(appliedNow).toEqual([]);
    expect((await db.knex(`${ORDER_LINE_SCHEMA}.${LAYER_MIGRATIONS_TABLE}`).pluck('name')) as string[]).toEqual(['001_live_call_stream_claims', '002_live_call_stream_claims_expiry']);
    expect((await db.knex(`${ORDER_LINE_SCHEMA}.${ORDER_LINE_MIGRATIONS_TABLE}`).pluck('name')) as string[]).toEqual(['001_order_line_schema']);
    // Its own schema: nothing of the order line or the layer in public.
    const { rows: inPublic } = (await db.knex.raw("select table_name from information_schema.tables where table_schema = 'public'")) as { rows: unknown[] };
    expect(inPublic).toEqual([]);
    const { rows } = (await db.knex.raw("select to_regclass('knex_migrations') as shared")) as { rows: Array<{ shared: string | null }> };
    expect(rows[0]!.shared).toBeNull();
    expect(shopA).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('takes an order: 1 statement at start, 0 while live, BEGIN + one per operation + COMMIT at the end; a replay changes nothing', async () => {
    const callSid = newCallSid();
    const { client, before } = await dial(shopA, callSid);
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    const load = wire.statements().slice(before);
    const liveFrom = before + load.length;

    expect(await press(client, '1')).toBe('added-margherita');
    expect(await press(client, '1')).toBe('added-margherita');
    expect(await press(client, '3')).toBe('added-tiramisu');
    expect(await press(client, '7')).toBe('sorry-no-such-item');
    expect(await press(client, '#')).toBe('order-placed');
    expect(await press(client, '0')).toBe('name-noted');
    expect(await press(client, '*')).toBe('callback-requested');
    const live = wire.statements().slice(liveFrom);
    // The journal file of the live call, as a crashed process would leave it.
    const journalName = (await fs.readdir(journalDir)).find((name) => name.startsWith(`${callSid}.`) && name.endsWith('.journal'));
    expect(journalName).toBeDefined();
    const journaled = await fs.readFile(path.join(journalDir, journalName!));
    // Nothing landed yet: the writes are buffered and journaled.
    expect(await db.knex('order_line.orders').where({ call_sid: callSid })).toEqual([]);

    const flushFrom = wire.statements().length;
    client.stop(callSid);
    expect((await client.closed).code).toBe(1000);
    await callEnded(callSid);
    const flushed = wire.statements().slice(flushFrom);

    expect(load).toHaveLength(1);
    expect(load[0]!.sql).toContain('"order_line"."shops"');
    expect(load[0]!.sql).toContain('"order_line"."live_call_stream_claims"');
    expect(load[0]!.sql).toContain('json_agg');
    expect(live).toEqual([]);
    // Enqueue order (the name was remembered first), the foreign keys respected (customers before orders).
    expect(verbs(flushed)).toEqual(['BEGIN', 'update customers', 'insert into orders', 'insert into callback_requests', 'COMMIT']);

    const order = await db.knex('order_line.orders').where({ call_sid: callSid }).first();
    expect(order).toMatchObject({
      shop_id: shopA,
      customer_id: customerA,
      total_cents: 2 * 900 + 550,
      items: [
        { sku: 'margherita', name: 'Margherita', quantity: 2, priceCents: 900 },
        { sku: 'tiramisu', name: 'Tiramisu', quantity: 1, priceCents: 550 },
      ],
    });
    expect(await db.knex('order_line.callback_requests').where({ call_sid: callSid }).first()).toMatchObject({ shop_id: shopA, phone: CALLER });
    expect(await db.knex('order_line.customers').where({ id: customerA }).first()).toMatchObject({ shop_id: shopA, display_name: 'Dana Scully' });

    // The guard's view: one load statement, none live, the flush's five; no violation in the call's trace.
    const spans = traceOfCall(callSid);
    expectNoLiveCallDbAccess(spans);
    const root = spans.find((span) => span.name === 'media_stream')!;
    expect(root.attributes).toMatchObject({ 'call.db.queries.load': 1, 'call.db.queries.live': 0, 'call.db.queries.flush': 5 });

    // Replay 1: the same writes (same stream, same sequence: same keys) flushed again — the order is not inserted twice.
    const landed = await rowsOf(shopA);
    const replay = new WriteBuffer({
      operations: orderLineApp.writes,
      callSid,
      streamSid: `MZ${callSid.slice(2)}`,
      tenantId: shopA,
      bindings: { direction: 'inbound', customerId: customerA, caller: CALLER },
    });
    for (const { name, input } of enqueued.get(callSid)!) replay.enqueue(name, input as never);
    const again = await server.flusher.flush(replay);
    expect(again.status).toBe('flushed');
    if (again.status === 'flushed') expect(again.result.statements.find((s) => s.op === 'placeOrder')?.affected).toBe(0);
    expect(await rowsOf(shopA)).toEqual(landed);

    // Replay 2: the journal as a dead process left it, recovered — the same transaction, nothing new.
    const orphan = path.join(journalDir, `${callSid}.${await deadPid()}-1.0.journal`);
    await fs.writeFile(orphan, journaled);
    const replayFrom = wire.statements().length;
    const report = await server.flusher.recover();
    expect(report).toMatchObject({ claimed: 1, flushed: 1, deadLettered: 0 });
    expect(verbs(wire.statements().slice(replayFrom))).toEqual(['BEGIN', 'update customers', 'insert into orders', 'insert into callback_requests', 'COMMIT']);
    expect(await rowsOf(shopA)).toEqual(landed);
    expect((await fs.readdir(journalDir)).filter((name) => name.startsWith(callSid))).toEqual([]);
  });

  it("a call to another shop reads and writes only that shop's rows", async () => {
    const shopARows = await rowsOf(shopA);
    const callSid = newCallSid();
    const { client, before } = await dial(shopB, callSid);
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    expect(wire.statements().slice(before)).toHaveLength(1);
    // Shop B's menu, and no customer: the caller is shop A's.
    expect(await press(client, '2')).toBe('sorry-no-such-item');
    expect(await press(client, '1')).toBe('added-dumplings');
    expect(await press(client, '0')).toBe('sorry-unknown-caller');
    expect(await press(client, '#')).toBe('order-placed');
    client.stop(callSid);
    await client.closed;
    await callEnded(callSid);
    expectNoLiveCallDbAccess(traceOfCall(callSid));

    expect(await db.knex('order_line.orders').where({ call_sid: callSid })).toEqual([
      expect.objectContaining({ shop_id: shopB, customer_id: null, total_cents: 700 }),
    ]);
    expect(await rowsOf(shopA)).toEqual(shopARows);
  });

  it("writes bound to another shop cannot touch the first shop's rows, whatever they name", async () => {
    const shopARows = await rowsOf(shopA);
    const [callbackOfA] = shopARows.callbacks as Array<{ call_sid: string }>;
    // A shop-B buffer that names shop A's customer and reuses shop A's call sid.
    const forged = (build: (buffer: WriteBuffer<OrderLineWrites>) => void) => {
      const buffer = new WriteBuffer({ operations: orderLineApp.writes, callSid: callbackOfA!.call_sid, streamSid: `MZforged${sidCounter++}`, tenantId: shopB, bindings: { customerId: customerA, caller: '+15550009999' } });
      build(buffer);
      return server.flusher.flush(buffer);
    };
    const rename = await forged((b) => b.enqueue('rememberName', { displayName: 'Mallory' }));
    expect(rename).toMatchObject({ status: 'dead-lettered', reason: expect.stringMatching(/not tenant/) });
    const callback = await forged((b) => b.enqueue('requestCallback', { reason: 'overwrite', phone: '+15550009999' }));
    // Keyed (shop_id, call_sid): shop B's request is shop B's own row, shop A's is not touched.
    expect(callback).toMatchObject({ status: 'flushed' });
    expect(await db.knex('order_line.callback_requests').where({ call_sid: callbackOfA!.call_sid }).orderBy('reason').select('shop_id', 'reason')).toHaveLength(2);
    const order = await forged((b) => b.enqueue('placeOrder', { items: [{ sku: 'margherita', name: 'Margherita', quantity: 1, priceCents: 1 }] }));
    expect(order).toMatchObject({ status: 'dead-lettered', reason: expect.stringMatching(/foreign key/) });
    expect(await rowsOf(shopA)).toEqual(shopARows);

    // A stream that swaps shop A's signed parameters for shop B's is refused before any query.
    const callSid = newCallSid();
    const { client, before } = await dial(shopA, callSid, CALLER, (parameters) => {
      parameters.shop_id = shopB;
    });
    expect((await client.closed).code).toBe(1008);
    expect(wire.statements().slice(before)).toEqual([]);
    expect(await rowsOf(shopA)).toEqual(shopARows);
  });
});
