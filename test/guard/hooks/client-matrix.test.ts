import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { GuardMode } from '../../../reference/config.js';
import { createKnex } from '../../../reference/db/knex.js';
import { startLiveCall, type LiveCall } from '../../../src/guard/live-call.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { startPgWireCounter, type PgWireCounter } from '../../helpers/pg-wire-counter.js';
import { pgSpans, spanExporter } from '../../helpers/spans.js';
import { testTelemetry } from '../../helpers/telemetry.js';

interface Clients {
  client: pg.Client;
  pool: pg.Pool;
  knex: Knex;
}

/** Settles once: with the error the client reported, or none. */
type Done = (error?: unknown) => void;
const INSERT = 'insert into matrix_probe (tag) values ($1)';

/**
 * Each way issues an insert of `tag` the way application code in a ws
 * listener does — without awaiting — and reports its outcome through the
 * client's own channel (promise, callback, `error` event).
 */
const WAYS: Record<string, { statements: number; run: (c: Clients, tag: string, done: Done) => void }> = {
  'pg.Client promise': { statements: 1, run: ({ client }, tag, done) => void client.query(INSERT, [tag]).then(() => done(), done) },
  'pg.Client callback': { statements: 1, run: ({ client }, tag, done) => void client.query(INSERT, [tag], (error) => done(error ?? undefined)) },
  'pg.Client new Query': {
    statements: 1,
    run: ({ client }, tag, done) => {
      const query = client.query(new pg.Query(INSERT, [tag]));
      query.on('error', done).on('end', () => done());
    },
  },
  'pg.Pool promise': { statements: 1, run: ({ pool }, tag, done) => void pool.query(INSERT, [tag]).then(() => done(), done) },
  'pg.Pool callback': { statements: 1, run: ({ pool }, tag, done) => void pool.query(INSERT, [tag], (error) => done(error ?? undefined)) },
  'knex builder': { statements: 1, run: ({ knex }, tag, done) => void knex('matrix_probe').insert({ tag }).then(() => done(), done) },
  'knex raw': { statements: 1, run: ({ knex }, tag, done) => void knex.raw('insert into matrix_probe (tag) values (?)', [tag]).then(() => done(), done) },
  // BEGIN, INSERT, COMMIT in report mode; in block mode BEGIN is refused and nothing else is sent.
  'knex transaction': {
    statements: 3,
    run: ({ knex }, tag, done) => void knex.transaction((trx) => trx('matrix_probe').insert({ tag })).then(() => done(), done),
  },
};

const TEST_FILE = 'client-matrix.test.ts';

describe('block mode fails a query the way its client does, inside a ws listener', () => {
  let db: TestDatabase;
  let wire: PgWireCounter;
  let clients: Clients;
  let server: WebSocketServer;
  let socket: WebSocket;
  let nextMessage: ((text: string) => void) | undefined;
  const { guard } = testTelemetry();

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.knex.schema.createTable('matrix_probe', (t) => {
      t.increments('id');
      t.text('tag').notNullable();
    });
    wire = await startPgWireCounter(db.url);
    const client = new pg.Client({ connectionString: wire.url });
    await client.connect();
    const pool = new pg.Pool({ connectionString: wire.url, max: 2 });
    pool.on('error', () => {});
    clients = { client, pool, knex: createKnex(wire.url, { poolMax: 2 }) };
    // A real ws server on port 0: every message runs its handler in a live call, as the README says.
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    server.on('connection', (ws) => ws.on('message', (data) => nextMessage?.(data.toString())));
    socket = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await once(socket, 'open');
  });

  afterEach(() => guard.setMode('report'));

  afterAll(async () => {
    socket.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await clients.knex.destroy();
    await clients.client.end();
    await clients.pool.end();
    await wire.close();
    await db.drop();
  });

  /** Sends one ws message; its listener runs `way` in a fresh live call. */
  async function viaListener(
    way: (c: Clients, tag: string, done: Done) => void,
    tag: string,
  ): Promise<{ live: LiveCall; error: unknown; threw: boolean }> {
    const live = startLiveCall({ callSid: `CA-${tag}`, tenantId: 9 });
    let threw = false;
    const settled = new Promise<unknown>((resolve) => {
      nextMessage = () =>
        live.run(() => {
          try {
            way(clients, tag, resolve);
          } catch (error) {
            threw = true; // recorded, then rethrown: the listener must never see it
            throw error;
          }
        });
    });
    socket.send('frame');
    const error = await settled;
    live.end();
    return { live, error, threw };
  }

  const rowExists = async (tag: string): Promise<boolean> =>
    Boolean(await db.knex('matrix_probe').where({ tag }).first('id'));

  function violationEvents(live: LiveCall): NonNullable<ReadableSpan['events']> {
    const span = spanExporter()
      .getFinishedSpans()
      .find((s) => s.spanContext().spanId === live.span.spanContext().spanId);
    return (span?.events ?? []).filter((event) => event.name === 'live_call.db_violation');
  }

  const modes: GuardMode[] = ['report', 'block'];
  describe.each(Object.entries(WAYS))('%s', (name, way) => {
    it.each(modes)('in %s mode', async (mode) => {
      guard.setMode(mode);
      const tag = `${name.replace(/\W+/g, '-')}-${mode}-${process.pid}`;
      wire.reset();
      const { live, error, threw } = await viaListener(way.run, tag);
      guard.setMode('report');

      expect(threw, 'client.query() threw synchronously').toBe(false);
      const events = violationEvents(live);
      const sent = wire.statements().filter((s) => s.sql.includes('matrix_probe'));
      if (mode === 'report') {
        expect(error).toBeUndefined();
        expect(await rowExists(tag)).toBe(true);
        expect(events).toHaveLength(way.statements);
        expect(sent).toHaveLength(1);
      } else {
        expect((error as { code?: string } | undefined)?.code).toBe('ERR_LIVE_CALL_DB_ACCESS');
        expect(await rowExists(tag)).toBe(false);
        expect(sent, 'statements that reached the server').toEqual([]);
        expect(events).toHaveLength(1);
        expect(events[0]!.attributes?.['live_call.blocked']).toBe(true);
      }
      // Reported or blocked, the event carries the statement's SQL (a transaction blocked at BEGIN: its BEGIN).
      expect(String(events[0]!.attributes?.['db.query.text'])).toMatch(/matrix_probe|^begin/i);
      // The line that made it: the listener in this file, not the guard, pg or knex.
      const stack = String(events[0]!.attributes?.['code.stacktrace']);
      expect(stack.split('\n')[0]).toContain(TEST_FILE);
      expect(stack).not.toMatch(/node_modules|src\/telemetry/);
      // The process is still here, and the clients still answer.
      expect((await clients.client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    });
  });

  it.each(modes)('a cold knex pool (version probe, SET search_path) counts one violation per query in %s mode', async (mode) => {
    const cold = knexFactory({ client: 'pg', connection: wire.url, searchPath: ['public'], pool: { min: 0, max: 1 } });
    try {
      guard.setMode(mode);
      wire.reset();
      const tag = `cold-${mode}-${process.pid}`;
      const { live, error } = await viaListener(
        (_c, t, done) => void cold('matrix_probe').insert({ tag: t }).then(() => done(), done),
        tag,
      );
      guard.setMode('report');
      const events = violationEvents(live);
      expect(events).toHaveLength(1);
      // Reported or blocked, the event carries the SQL (blocked: from the client hook, before the span has it).
      expect(String(events[0]!.attributes?.['db.query.text'])).toMatch(/insert into "matrix_probe"/);
      expect(String(events[0]!.attributes?.['code.stacktrace']).split('\n')[0]).toContain(TEST_FILE);
      const setup = pgSpans(live.span.spanContext().traceId).filter((s) => s.attributes['live_call.connection_setup'] === true);
      expect(setup.map((s) => String(s.attributes['db.query.text']).toLowerCase())).toEqual([
        expect.stringContaining('select version()'),
        expect.stringContaining('set search_path'),
      ]);
      expect(setup.some((s) => s.attributes['live_call.violation'])).toBe(false);
      expect(error === undefined).toBe(mode === 'report');
      // The connection it opened is usable and back in the pool.
      expect((await cold.raw('select 2 as two')).rows).toEqual([{ two: 2 }]);
      expect((cold.client as { pool: { numUsed(): number } }).pool.numUsed()).toBe(0);
    } finally {
      await cold.destroy();
    }
  });
});
