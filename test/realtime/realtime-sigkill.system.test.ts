import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { newCallSid, placeCall } from '../helpers/media-server.js';
import { RECEPTIONIST, spawnNode, type Spawned } from '../helpers/processes.js';
import { LocalRealtimeServer, serverEvents, type ModelConnection } from '../helpers/realtime-server.js';

const CALLS = 3;
const TURNS = 4;
const CALLERS = ['+15551230001', '+15551230002', '+15551230003'];

describe('the Realtime receptionist, SIGKILLed mid-call', () => {
  let model: LocalRealtimeServer;
  let db: TestDatabase;
  let journalDir: string;
  const servers: Spawned[] = [];

  beforeAll(async () => {
    model = await LocalRealtimeServer.start();
    db = await createTestDatabase();
    journalDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-rt-journal-'));
  });
  afterAll(async () => {
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await model?.close();
    await db?.drop();
    await fs.rm(journalDir, { recursive: true, force: true });
  });

  async function serve(): Promise<{ server: Spawned; url: string }> {
    const server = spawnNode([...RECEPTIONIST, 'serve', '--agent', 'realtime'], {
      ...process.env,
      LOG_LEVEL: 'warn',
      PORT: '0',
      DATABASE_URL: db.url,
      JOURNAL_DIR: journalDir,
      OPENAI_API_KEY: 'sk-test-system-key-0123456789',
      REALTIME_URL: model.url,
    });
    servers.push(server);
    const [, url] = await server.waitForLine(/listening on (http:\/\/\S+)/);
    return { server, url: url! };
  }

  it('every acknowledged turn (caller, assistant, tool) lands once after recovery', async () => {
    const first = await serve();
    const calls: Array<{ callSid: string; connection: ModelConnection }> = [];
    for (let i = 0; i < CALLS; i += 1) {
      const callSid = newCallSid();
      const next = model.nextConnection();
      await placeCall(first.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: CALLERS[i]!, Direction: 'inbound' });
      const connection = await next;
      await connection.waitFor('session.update');
      calls.push({ callSid, connection });
    }
    // Each turn: the caller's words, the assistant's answer, a tool call. The tool's
    // output coming back acknowledges the turn: its entries are journaled by then.
    for (let turn = 1; turn <= TURNS; turn += 1) {
      await Promise.all(
        calls.map(async ({ connection }, index) => {
          connection.send(serverEvents.speechStopped(`u${turn}`));
          connection.send(serverEvents.callerTranscript(`u${turn}`, `caller ${index} turn ${turn}`));
          connection.speak(`a${turn}`, `r${turn}`, Buffer.alloc(800, 0x10), `assistant ${index} turn ${turn}`);
          connection.send(serverEvents.functionCall(`c${turn}`, 'request_callback', JSON.stringify({ reason: `turn ${turn}` })));
          await connection.waitFor('conversation.item.create', 1, (e) => e.item.type === 'function_call_output' && e.item.call_id === `c${turn}`);
        }),
      );
    }
    // One more caller entry, not acknowledged: it may or may not land (never twice).
    for (const { connection } of calls) connection.send(serverEvents.callerTranscript('u-late', 'late words'));
    first.server.child.kill('SIGKILL');
    await first.server.exited;
    const acknowledged = CALLS * TURNS * 3;

    // A new process on the same database and journal recovers the dead one's journals before it listens.
    const second = await serve();
    const rows = await db.knex('call_transcripts').whereIn('call_sid', calls.map((c) => c.callSid)).orderBy(['call_sid', 'position']);
    const keys = new Set(rows.map((row) => `${row.call_sid}:${row.position}`));
    const landedAcknowledged = rows.filter((row) => row.text !== 'late words').length;
    const duplicated = rows.length - keys.size;
    console.log(
      `SIGKILL mid-call (${CALLS} calls x ${TURNS} turns): transcript entries acknowledged ${acknowledged}, landed ${landedAcknowledged}, ` +
        `duplicated ${duplicated}; unacknowledged late entries landed ${rows.length - landedAcknowledged} of ${CALLS}`,
    );
    expect(landedAcknowledged).toBe(acknowledged);
    expect(duplicated).toBe(0);
    for (const { callSid } of calls) {
      const positions = rows.filter((row) => row.call_sid === callSid).map((row) => row.position);
      expect(positions).toEqual(positions.map((_, index) => index + 1)); // in order, no gaps
      expect(rows.filter((row) => row.call_sid === callSid).slice(0, 3).map((row) => row.role)).toEqual(['caller', 'assistant', 'tool']);
    }
    const sessions = await db.knex('call_sessions').whereIn('call_sid', calls.map((c) => c.callSid));
    expect(sessions.every((session) => session.state.callbackRequested === true)).toBe(true);

    // A third process finds nothing left to land: still once.
    second.server.child.kill('SIGTERM');
    await second.server.exited;
    await serve();
    expect(await db.knex('call_transcripts').whereIn('call_sid', calls.map((c) => c.callSid)).count({ n: '*' }).first()).toEqual({ n: String(rows.length) });
  });
});
