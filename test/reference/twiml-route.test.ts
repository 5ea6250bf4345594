import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import express from 'express';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS, seedDemoData } from '../../reference/db/seed.js';
import { twimlRoute } from '../../reference/twiml-route.js';
import type { Logger } from '../../src/index.js';
import type { PrefetchCall } from '../../src/twilio/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { newCallSid, postTwiml } from '../helpers/media-server.js';

const JANE = '+15551230001';

/** A logger that keeps what it was given (the webhook's failures). */
function recordingLogger(): Logger & { errors: Array<{ err?: { name?: string } }> } {
  const errors: Array<{ err?: { name?: string } }> = [];
  return { errors, info: () => undefined, warn: () => undefined, error: (fields: object) => void errors.push(fields as { err?: { name?: string } }) } as never;
}

describe('POST /twiml: bounded by the server, prefetching the context', () => {
  let db: TestDatabase;
  let server: http.Server;
  let base: string;
  const prefetched: PrefetchCall[] = [];
  const logger = recordingLogger();

  beforeAll(async () => {
    db = await createTestDatabase();
    await seedDemoData(db.knex);
    const app = express();
    app.use(twimlRoute({ knex: db.knex, logger, statementTimeoutMs: 300, prefetch: (call) => prefetched.push(call) }));
    server = http.createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.close();
    await db?.drop();
  });

  it('answers the Stream and hands the call to prefetch once its log is recorded', async () => {
    const callSid = newCallSid();
    const answer = await postTwiml(base, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    expect(answer.status).toBe(200);
    expect(answer.stream?.parameters).toMatchObject({ business_id: expect.any(String), direction: 'inbound', lead_id: expect.any(String) });
    const { token: _token, ...parameters } = answer.stream!.parameters;
    expect(prefetched.at(-1)).toEqual({ callSid, parameters });
    expect(await db.knex('call_logs').where({ call_sid: callSid })).toHaveLength(1);
  });

  it('with call_logs locked by another transaction, the statement is cancelled on the server after the timeout and the webhook still answers TwiML', async () => {
    const locker: Knex.Transaction = await db.knex.transaction();
    try {
      await locker.raw('lock table call_logs in access exclusive mode');
      const callSid = newCallSid();
      const before = prefetched.length;
      const answer = await postTwiml(base, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatch(/<Say>Sorry, we cannot take your call right now\.<\/Say><Hangup\/>/);
      expect(logger.errors.at(-1)?.err?.name).toBe('KnexTimeoutError');
      expect(prefetched.length).toBe(before);
      // Cancelled on the server, not only given up on: no statement of the webhook still waits for the lock.
      const waiting = await db.knex.raw(`select count(*)::int as n from pg_stat_activity where query like '%insert into call_logs%' and state = 'active' and pid <> pg_backend_pid()`);
      expect(waiting.rows[0].n).toBe(0);
    } finally {
      await locker.rollback();
    }
  });

  it('refuses a statementTimeoutMs that is not a positive integer, naming it', () => {
    expect(() => twimlRoute({ knex: db.knex, logger, statementTimeoutMs: 0 })).toThrow(/statementTimeoutMs must be a positive integer \(received 0\)/);
  });
});
