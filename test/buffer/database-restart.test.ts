import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flusher } from '../../src/buffer/flusher.js';
import { Journal } from '../../src/buffer/journal.js';
import { ReceptionistBuffer } from '../helpers/receptionist-buffer.js';
import { receptionistWrites } from '../../reference/operations.js';
import { EmbeddedPostgres } from '../../reference/db/embedded-postgres.js';
import { createKnex } from '../../reference/db/knex.js';
import { migrate } from '../../reference/db/migrate.js';
import { isAlive } from '../helpers/processes.js';
import { insertTenants, type Tenants } from './fixture-data.js';

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// A PostgreSQL of its own on a fixed port, so that it can be stopped and
// started again under the same URL while a flush is trying to land.
describe('a flush while the database is stopped', () => {
  let root: string;
  let server: EmbeddedPostgres;
  let knex: Knex;
  let t: Tenants;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-restart-'));
    await fs.chmod(root, 0o755);
    server = new EmbeddedPostgres({ dataDir: path.join(root, 'pg'), port: await freePort() });
    knex = createKnex(await server.start(), { poolMax: 2 });
    await migrate(knex);
    t = await insertTenants(knex);
  });
  afterAll(async () => {
    await knex.destroy();
    await server.stop();
    const pid = Number((await fs.readFile(path.join(root, 'pg', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (pid && isAlive(pid)) process.kill(pid, 'SIGQUIT');
    await fs.rm(root, { recursive: true, force: true });
  });

  it('lands exactly once after the database comes back; no call loses data', async () => {
    const journal = new Journal({ dir: path.join(root, 'journal'), fsync: 'none' });
    const flusher = new Flusher({ knex, operations: receptionistWrites, journal, logger: pino({ level: 'silent' }), retryInitialDelayMs: 20, retryMaxDelayMs: 200 });
    try {
      const buffers = ['CA_STOP_1', 'CA_STOP_2', 'CA_STOP_3'].map((callSid, i) => {
        const buffer = new ReceptionistBuffer({ callSid, businessId: t.a, leadId: t.aLead, journal });
        buffer.createAppointment({ startsAt: `2030-04-0${i + 1}T10:00:00Z`, endsAt: `2030-04-0${i + 1}T11:00:00Z`, title: callSid });
        buffer.updateSession({ state: { i }, summary: callSid });
        buffer.recordOutcome({ status: 'completed', durationSeconds: 30 + i });
        return buffer;
      });
      await knex.raw('select 1'); // a pooled connection the shutdown will break (57P01)
      await server.stop();

      const landing = Promise.all(buffers.map((buffer) => flusher.flush(buffer)));
      const [retry] = await once(flusher, 'retry');
      expect(retry).toMatchObject({ attempt: 1 });
      expect(flusher.stats().pending).toBe(3);
      await server.start();

      const outcomes = await landing;
      expect(outcomes.map((o) => o.status)).toEqual(['flushed', 'flushed', 'flushed']);
      const appointments = await knex('appointments').whereIn('call_sid', ['CA_STOP_1', 'CA_STOP_2', 'CA_STOP_3']).orderBy('call_sid');
      expect(appointments.map((a) => [a.call_sid, a.idempotency_key])).toEqual([
        ['CA_STOP_1', 'CA_STOP_1:1'],
        ['CA_STOP_2', 'CA_STOP_2:1'],
        ['CA_STOP_3', 'CA_STOP_3:1'],
      ]);
      expect(await knex('call_logs').whereIn('call_sid', ['CA_STOP_1', 'CA_STOP_2', 'CA_STOP_3']).count({ n: '*' })).toEqual([{ n: '3' }]);
      expect(flusher.stats()).toMatchObject({ pending: 0, flushed: 3, deadLettered: 0 });
    } finally {
      await flusher.stop();
      journal.close();
    }
  });
});
