import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import type { TwilioStreamClient } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { newCallSid, placeCall, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';
import { RECEPTIONIST, spawnNode, type Spawned } from '../helpers/processes.js';

const LISTENING = /^live-call-guard listening on (http:\/\/\S+)$/;
const isMark = (name: string) => (m: { event: string; mark?: { name: string } }) => m.event === 'mark' && m.mark!.name === name;

/** Booked appointments of one business that overlap another booked one: must be none. */
async function doubleBookings(db: TestDatabase, businessId: number): Promise<number> {
  const [{ count }] = (await db.knex.raw(
    `select count(*)::int as count from appointments a join appointments b
       on a.business_id = b.business_id and a.id < b.id
      and tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
    where a.business_id = ? and a.status = 'booked' and b.status = 'booked'`,
    [businessId],
  )).rows as Array<{ count: number }>;
  return count;
}

async function dentalId(db: TestDatabase): Promise<number> {
  return ((await db.knex('businesses').where({ phone_number: DEMO_NUMBERS.dental }).first('id')) as { id: number }).id;
}

describe('bookings: a slot taken by another process between load and flush', () => {
  let app: TestMediaServer;
  beforeAll(async () => {
    app = await startMediaServer();
  });
  afterAll(async () => {
    await app.stop();
  });

  it("the call's booking lands as a conflict with a callback task; its other writes land; nothing is lost", async () => {
    const callSid = newCallSid();
    const { client } = await placeCall(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: '+15551230001' });
    await client.waitFor(isMark('greeting'));
    // The context is loaded: the call believes every slot is free. Another process books the first one it will offer.
    const business = await dentalId(app.db);
    client.dtmf('1');
    await client.waitFor(isMark('booked'));
    client.dtmf('2');
    await client.waitFor(isMark('noted'));
    const mine = (await app.db.knex('appointments').where({ call_sid: callSid })) as unknown[];
    expect(mine).toHaveLength(0); // nothing written while live
    const session = await app.db.knex('call_sessions').where({ call_sid: callSid }).first('state');
    expect(session).toBeUndefined();
    // The slot the call holds, as its journal says: taken now by "another process".
    const journaled = await journaledAppointment(app.journalDir);
    await app.db.knex('appointments').insert({
      business_id: business,
      call_sid: 'CA_OTHER_PROCESS',
      starts_at: journaled.starts_at,
      ends_at: journaled.ends_at,
      title: 'Booked by another process',
      idempotency_key: 'CA_OTHER_PROCESS:1',
    });

    client.stop(callSid);
    expect((await client.closed).code).toBe(1000);
    await app.callEnded(callSid);
    expect(await app.db.knex('appointments').where({ call_sid: callSid }).select('status')).toEqual([{ status: 'conflict' }]);
    expect(await app.db.knex('callback_tasks').where({ call_sid: callSid })).toHaveLength(1);
    const state = (await app.db.knex('call_sessions').where({ call_sid: callSid }).first('state')) as { state: Record<string, unknown> };
    expect(state.state).toMatchObject({ callbackRequested: true });
    expect(await app.db.knex('call_logs').where({ call_sid: callSid }).first('status')).toEqual({ status: 'completed' });
    expect(await doubleBookings(app.db, business)).toBe(0);
  });
});

/** The appointment row a live call journaled (its file is in the journal until the flush). */
async function journaledAppointment(journalDir: string): Promise<{ starts_at: string; ends_at: string }> {
  for (const name of await fs.readdir(journalDir)) {
    if (!name.endsWith('.journal')) continue;
    const lines = (await fs.readFile(path.join(journalDir, name), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { op?: string; row?: { starts_at: string; ends_at: string } });
    const write = lines.find((line) => line.op === 'createAppointment');
    if (write?.row) return write.row;
  }
  throw new Error('no journaled appointment');
}

describe('bookings: two server processes, one database, 20 callers pressing 1 at once', () => {
  let db: TestDatabase;
  let dir: string;
  const servers: Spawned[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-bookings-'));
  });
  afterAll(async () => {
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all(servers.map((server) => server.exited));
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('0 slots booked twice; every call is answered and its intent is in the database (an appointment, or a conflict and its callback task)', async () => {
    const urls: string[] = [];
    for (const name of ['one', 'two']) {
      const server = spawnNode([...RECEPTIONIST, 'serve'], {
        ...process.env,
        LOG_LEVEL: 'warn',
        PORT: '0',
        DATABASE_URL: db.url,
        JOURNAL_DIR: path.join(dir, name),
      });
      servers.push(server);
      urls.push((await server.waitForLine(LISTENING))[1]!);
    }
    const calls: Array<{ callSid: string; client: TwilioStreamClient }> = [];
    for (let i = 0; i < 20; i += 1) {
      const callSid = newCallSid();
      const { client } = await placeCall(urls[i % 2]!, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: `+1555999${String(i).padStart(4, '0')}` });
      calls.push({ callSid, client });
    }
    await Promise.all(calls.map(({ client }) => client.waitFor(isMark('greeting'))));
    for (const { client } of calls) client.dtmf('1');
    await Promise.all(calls.map(({ client }) => client.waitFor(isMark('booked'))));
    for (const { client, callSid } of calls) client.stop(callSid);
    await Promise.all(calls.map(({ client }) => client.closed));

    // The flushes run after the line closes: wait for every call's outcome to land.
    const sids = calls.map(({ callSid }) => callSid);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const [{ count }] = (await db.knex('call_logs').whereIn('call_sid', sids).where({ status: 'completed' }).count({ count: '*' })) as Array<{ count: string }>;
      if (Number(count) === sids.length) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const business = await dentalId(db);
    expect(await doubleBookings(db, business)).toBe(0);
    const appointments = (await db.knex('appointments').whereIn('call_sid', sids).select('call_sid', 'status')) as Array<{ call_sid: string; status: string }>;
    const tasks = new Set(((await db.knex('callback_tasks').whereIn('call_sid', sids).select('call_sid')) as Array<{ call_sid: string }>).map((t) => t.call_sid));
    for (const sid of sids) {
      const mine = appointments.filter((a) => a.call_sid === sid);
      expect(mine, sid).toHaveLength(1);
      if (mine[0]!.status === 'conflict') expect(tasks.has(sid), sid).toBe(true);
      else expect(mine[0]!.status).toBe('booked');
    }
    const conflicts = appointments.filter((a) => a.status === 'conflict').length;
    // Each process keeps its own calls apart; only calls of different processes can meet at the database.
    expect(conflicts).toBeLessThanOrEqual(10);
    expect(tasks.size).toBe(conflicts);
    console.log(`two processes, 20 calls: ${20 - conflicts} booked, ${conflicts} conflicts with callback tasks, 0 double bookings`);
  }, 60_000);
});
