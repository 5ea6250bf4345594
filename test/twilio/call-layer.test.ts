import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import knexFactory from 'knex';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { orderLineAgent, type OrderLineAgent, type OrderLineCall } from '../../examples/order-line/agent.js';
import { orderLineApp } from '../../examples/order-line/app.js';
import { seedShop } from '../../examples/order-line/seed.js';
import { ORDER_LINE_SCHEMA } from '../../examples/order-line/migrations.js';
import { startOrderLine, type OrderLineServer } from '../../examples/order-line/server.js';
import { ConfigError } from '../../src/index.js';
import { WriteBuffer } from '../../src/buffer/write-buffer.js';
import { createCallLayer } from '../../src/twilio/index.js';
import { parseStreamTwiml, TwilioStreamClient, type StreamInstruction } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const STREAM_SECRET = 'call-layer-test-secret-0123456789';
const CALLER = '+15557770009';

let sidCounter = 0;
function newCallSid(): string {
  sidCounter += 1;
  return `CA${process.pid.toString(16).padStart(8, '0')}${(0xc1000 + sidCounter).toString(16).padStart(24, '0')}`;
}

/** Log lines as objects (pino writing JSON into memory). */
function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, destination), lines };
}

describe('createCallLayer: one lifecycle, admission at three doors, the one right stop order', () => {
  let db: TestDatabase;
  let journalDir: string;
  let server: OrderLineServer | undefined;
  let shopId: string;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    if (journalDir) await fs.rm(journalDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function start(logger = pino({ level: 'silent' }), agent?: OrderLineAgent): Promise<OrderLineServer> {
    journalDir = await fs.mkdtemp(path.join(os.tmpdir(), 'call-layer-journal-'));
    server = await startOrderLine({ databaseUrl: db.url, journalDir, port: 0, streamSecret: STREAM_SECRET, logger, ...(agent ? { agent } : {}) });
    shopId ??= await seedShop(db.knex, {
      name: 'Layer Pizza',
      phone: '+15550003000',
      menu: [{ sku: 'margherita', name: 'Margherita', priceCents: 900 }],
      customers: [{ phone: CALLER, displayName: null }],
    });
    return server;
  }

  async function webhook(url: string, callSid: string): Promise<{ body: string; stream: StreamInstruction | undefined }> {
    const response = await fetch(`${url}/twiml?shop_id=${shopId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: callSid, From: CALLER, To: '+15550003000' }).toString(),
    });
    expect(response.status).toBe(200);
    const body = await response.text();
    return { body, stream: parseStreamTwiml(body) };
  }

  async function dial(url: string, callSid: string): Promise<TwilioStreamClient> {
    const { stream } = await webhook(url, callSid);
    if (!stream) throw new Error('the webhook answered no Stream');
    const client = await TwilioStreamClient.connect(stream.url);
    client.connected();
    client.start({ callSid, streamSid: `MZ${callSid.slice(2)}`, customParameters: stream.parameters });
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    return client;
  }

  async function press(client: TwilioStreamClient, digit: string, mark: string): Promise<void> {
    client.dtmf(digit);
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === mark);
  }

  it('drain refuses new calls at all three doors (TwiML busy, upgrade 503, start 1013) while a live call finishes and its writes land', async () => {
    const { url, layer } = await start();
    expect(layer.ready()).toMatchObject({ state: 'running', admitting: true });

    const liveSid = newCallSid();
    const live = await dial(url, liveSid);
    // A socket upgraded before the drain, whose `start` comes after it.
    const lateSid = newCallSid();
    const { stream: lateStream } = await webhook(url, lateSid);
    const late = await TwilioStreamClient.connect(lateStream!.url);
    late.connected();

    const drained = layer.drain(10_000);
    expect(layer.ready()).toMatchObject({ state: 'draining', admitting: false, reason: 'not taking calls (draining)' });

    // Door 1: the webhook answers busy.
    const refused = await webhook(url, newCallSid());
    expect(refused.stream).toBeUndefined();
    expect(refused.body).toContain('<Reject reason="busy"/>');
    // Door 2: the upgrade is refused with 503.
    await expect(TwilioStreamClient.connect(lateStream!.url)).rejects.toMatchObject({ status: 503 });
    // Door 3: a `start` on a socket opened before the drain is closed with 1013.
    late.start({ callSid: lateSid, streamSid: `MZ${lateSid.slice(2)}`, customParameters: lateStream!.parameters });
    expect(await late.closed).toMatchObject({ code: 1013 });

    // The live call goes on: it orders, hangs up, and the drain ends with its writes landed.
    await press(live, '1', 'added-margherita');
    await press(live, '#', 'order-placed');
    live.stop(liveSid);
    expect((await live.closed).code).toBe(1000);
    await drained;
    expect(await db.knex(`${ORDER_LINE_SCHEMA}.orders`).where({ call_sid: liveSid })).toHaveLength(1);
    expect(await db.knex(`${ORDER_LINE_SCHEMA}.orders`).where({ call_sid: lateSid })).toHaveLength(0);
    expect(layer.handler.stats().refused).toMatchObject({ twiml: 1, upgrade: 1, start: 1 });
    expect(layer.drain()).toBe(drained);
  });

  it('stop runs once, in order: drain, the flusher grace (what has not landed stays journaled), then the journal closes', async () => {
    const { logger, lines } = memoryLogger();
    const { url, layer } = await start(logger);
    const callSid = newCallSid();
    const client = await dial(url, callSid);
    await press(client, '1', 'added-margherita');
    await press(client, '#', 'order-placed');

    // The call's flush cannot land now: the orders table is locked by another session.
    const locker = knexFactory({ client: 'pg', version: '16', connection: db.url, pool: { min: 0, max: 1 } });
    const trx = await locker.transaction();
    try {
      await trx.raw(`lock table ${ORDER_LINE_SCHEMA}.orders in access exclusive mode`);
      const landed = new Promise<void>((resolve) => {
        layer.flusher.on('flushed', (event) => {
          if (event.callSid === callSid) resolve();
        });
      });
      client.stop(callSid);
      expect((await client.closed).code).toBe(1000);

      const stopping = layer.stop({ drainMs: 5_000, graceMs: 200 });
      expect(layer.stop()).toBe(stopping);
      await stopping;

      expect(layer.ready()).toMatchObject({ state: 'stopped', admitting: false, reason: 'not taking calls (stopped)' });
      const messages = lines.map((line) => String(line.msg));
      // The agent's log lines carry the call's sid and trace, as the session's own do.
      const sessionLine = lines.find((line) => line.msg === 'closing media stream' && line.call_sid === callSid);
      expect(sessionLine).toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(lines.find((line) => String(line.msg).startsWith('greeting'))).toMatchObject({ call_sid: callSid, trace_id: sessionLine!.trace_id });
      const drainAt = messages.indexOf('draining');
      const graceAt = messages.findIndex((msg) => msg.startsWith('flushes still under way at shutdown'));
      expect(drainAt).toBeGreaterThanOrEqual(0);
      expect(graceAt).toBeGreaterThan(drainAt);
      // The grace ran while the journal was open: every write of the call is journaled.
      expect(lines[graceAt]).toMatchObject({ pending: 1, unjournaledWrites: 0 });
      const file = (await fs.readdir(journalDir)).find((name) => name.startsWith(`${callSid}.`) && name.endsWith('.journal'));
      expect(file).toBeDefined();
      expect(await fs.readFile(path.join(journalDir, file!), 'utf8')).toContain('placeOrder');
      expect(() => layer.journal.openCall({ callSid: newCallSid(), streamSid: null, tenantId: shopId, bindings: {} })).toThrow(/closed/);

      // Unlocked, the flush under way lands, once.
      await trx.rollback();
      await landed;
      expect(await db.knex(`${ORDER_LINE_SCHEMA}.orders`).where({ call_sid: callSid })).toHaveLength(1);
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
      await locker.destroy();
    }
  });

  it("an agent holds its call's writes, not the buffer: it can enqueue, never close or persist its own call", async () => {
    let seen: OrderLineCall['writes'] | undefined;
    const inner = orderLineAgent();
    const { url } = await start(undefined, {
      startCall(call) {
        seen = call.writes;
        return inner.startCall(call);
      },
    });
    const callSid = newCallSid();
    const client = await dial(url, callSid);
    await press(client, '*', 'callback-requested');
    expect(seen).toBeDefined();
    expect(seen).not.toBeInstanceOf(WriteBuffer);
    expect(Object.isFrozen(seen)).toBe(true);
    expect(Object.keys(seen!).sort()).toEqual(['closed', 'durable', 'enqueue', 'size']);
    expect(seen).toMatchObject({ size: 1, durable: true, closed: false });
    const ended = new Promise<void>((resolve) => server!.media.on('callEnded', (event) => event.callSid === callSid && resolve()));
    client.stop(callSid);
    await ended;
    expect(seen!.closed).toBe(true);
    expect(() => seen!.enqueue('requestCallback', { reason: 'after the call' })).toThrow(/closed/);
    expect(await db.knex(`${ORDER_LINE_SCHEMA}.callback_requests`).where({ call_sid: callSid })).toHaveLength(1);
  });

  it('admits nothing before start() and after stop()', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'call-layer-unstarted-'));
    const knex = knexFactory({ client: 'pg', version: '16', connection: db.url, pool: { min: 0, max: 1 } });
    try {
      const layer = createCallLayer({ knex, app: orderLineApp, agent: orderLineAgent(), journal: dir, logger: pino({ level: 'silent' }) });
      expect(layer.ready()).toMatchObject({ state: 'created', admitting: false, reason: 'not taking calls (not started)' });
      const answer = layer.twiml({ callSid: newCallSid(), parameters: { shop_id: 'x' }, url: '/twiml', signature: undefined, form: {}, origin: 'http://localhost' });
      expect(answer).toMatchObject({ status: 200, refused: 'not taking calls (not started)' });
      expect(answer.body).toContain('<Reject reason="busy"/>');
      await layer.start();
      expect(layer.ready()).toMatchObject({ state: 'running', admitting: true });
      expect(layer.twiml({ callSid: newCallSid(), parameters: { shop_id: 'x' }, url: '/twiml', signature: undefined, form: {}, origin: 'https://voice.example' }).body).toContain(
        'wss://voice.example/media',
      );
      await layer.stop({ drainMs: 0 });
      expect(layer.ready()).toMatchObject({ state: 'stopped', admitting: false });
      await expect(layer.start()).resolves.toBeDefined(); // the first start's result: start() runs once
    } finally {
      await knex.destroy();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('fails closed at construction: what a check needs is missing or wrong', () => {
    const knex = knexFactory({ client: 'pg', version: '16', connection: db.url });
    const base = { knex, app: orderLineApp, agent: orderLineAgent(), journal: os.tmpdir(), logger: pino({ level: 'silent' }) };
    try {
      expect(() => createCallLayer({ ...base, twilio: { authToken: 'secret-token' } })).toThrow(ConfigError);
      expect(() => createCallLayer({ ...base, twilio: { authToken: 'secret-token' } })).toThrow(/authToken needs twilio\.publicUrl/);
      expect(() => createCallLayer({ ...base, twilio: { authToken: '', publicUrl: 'https://voice.example' } })).toThrow(/authToken/);
      expect(() => createCallLayer({ ...base, twilio: { publicUrl: 'voice.example' } })).toThrow(/publicUrl must be an http\(s\):\/\/ origin/);
      expect(() => createCallLayer({ ...base, streamSecret: 'short' })).toThrow(/streamSecret/);
      expect(() => createCallLayer({ ...base, journal: '' })).toThrow(/journal must be a directory path or a journal backend/);
      expect(() => createCallLayer({ ...base, agent: {} as never })).toThrow(/agent must have a startCall/);
      expect(() => createCallLayer({ ...base, knex: {} as never })).toThrow(/knex must be a Knex instance/);
      expect(() => createCallLayer({ ...base, mediaPath: 'media' })).toThrow(/mediaPath/);
    } finally {
      void knex.destroy();
    }
  });

  it('checks the webhook signature with twilio.authToken: 403 unsigned, a Stream when signed', async () => {
    const knex = knexFactory({ client: 'pg', version: '16', connection: db.url, pool: { min: 0, max: 1 } });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'call-layer-signed-'));
    try {
      const layer = createCallLayer({
        knex,
        app: orderLineApp,
        agent: orderLineAgent(),
        journal: dir,
        logger: pino({ level: 'silent' }),
        twilio: { authToken: 'the-auth-token', publicUrl: 'https://voice.example' },
      });
      await layer.start();
      const callSid = newCallSid();
      const form = { CallSid: callSid, From: CALLER };
      const { getExpectedTwilioSignature } = (await import('twilio')).default;
      const signature = getExpectedTwilioSignature('the-auth-token', 'https://voice.example/twiml?shop_id=s', form);
      const request = { callSid, parameters: { shop_id: 's' }, url: '/twiml?shop_id=s', form };
      expect(layer.twiml({ ...request, signature: undefined })).toMatchObject({ status: 403 });
      expect(layer.twiml({ ...request, signature: 'forged' })).toMatchObject({ status: 403 });
      expect(layer.verifyWebhook({ ...request, signature })).toBe(true);
      const answer = layer.twiml({ ...request, signature });
      expect(answer.status).toBe(200);
      expect(parseStreamTwiml(answer.body)?.url).toBe('wss://voice.example/media');
      await layer.stop({ drainMs: 0 });
    } finally {
      await knex.destroy();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
