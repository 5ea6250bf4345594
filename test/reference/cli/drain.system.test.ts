import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../../reference/db/seed.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { newCallSid, placeCall } from '../../helpers/media-server.js';
import { startPgWireCounter, type PgWireCounter } from '../../helpers/pg-wire-counter.js';
import { RECEPTIONIST, spawnNode } from '../../helpers/processes.js';

const LISTENING = /^live-call-guard listening on (http:\/\/\S+)$/;

function serve(env: NodeJS.ProcessEnv) {
  return spawnNode([...RECEPTIONIST, 'serve'], { ...process.env, LOG_LEVEL: 'warn', PORT: '0', ...env });
}

describe('drain always ends', () => {
  let db: TestDatabase;
  let proxy: PgWireCounter;
  let journal: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    proxy = await startPgWireCounter(db.url);
    journal = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-drain-'));
  });
  afterAll(async () => {
    await proxy.close();
    await db.drop();
    await fs.rm(journal, { recursive: true, force: true });
  });

  it('with the database down: the line closes right after stop, SIGTERM exits 0 within the drain, and the next process lands the writes', async () => {
    const server = serve({ DATABASE_URL: proxy.url, JOURNAL_DIR: journal, DRAIN_TIMEOUT_S: '1' });
    const [, url] = await server.waitForLine(LISTENING);
    const callSid = newCallSid();
    const { client } = await placeCall(url!, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: '+15551230001' });
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    client.dtmf('1');
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'booked');

    proxy.setRefusing(true);
    client.stop(callSid);
    // The flush cannot land (the database refuses), yet the caller's line is closed at once.
    expect((await client.closed).code).toBe(1000);

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toMatch(/the writes stay in the journal/);
    const left = (await fs.readdir(journal)).filter((name) => name.endsWith('.journal'));
    expect(left).toHaveLength(1);

    proxy.setRefusing(false);
    // Recovery runs before the next process listens.
    const next = serve({ DATABASE_URL: proxy.url, JOURNAL_DIR: journal });
    await next.waitForLine(LISTENING);
    try {
      expect(await db.knex('appointments').where({ call_sid: callSid })).toHaveLength(1);
      expect(await db.knex('call_logs').where({ call_sid: callSid }).first('status')).toEqual({ status: 'completed' });
      expect((await fs.readdir(journal)).filter((name) => name.endsWith('.journal'))).toEqual([]);
    } finally {
      next.child.kill('SIGTERM');
      expect((await next.exited).code).toBe(0);
    }
  }, 60_000);
});
