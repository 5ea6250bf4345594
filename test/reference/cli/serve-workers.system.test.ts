import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJournalFileName } from '../../../src/buffer/journal-format.js';
import { DEMO_NUMBERS } from '../../../reference/db/seed.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { newCallSid, placeCall } from '../../helpers/media-server.js';
import { isAlive, RECEPTIONIST, spawnNode } from '../../helpers/processes.js';

const LISTENING = /^live-call-guard listening on (http:\/\/\S+)$/;
const JANE = '+15551230001';

/** The pids of the node processes a process started (the workers of a primary; not tsx's esbuild). */
function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-x', 'node', '-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

const REPLACEMENT_LISTENING = /"worker_pid":(\d+),"msg":"a replacement server worker is listening"/;

async function journalOwners(dir: string): Promise<number[]> {
  const names = (await fs.readdir(dir)).filter((name) => name.endsWith('.journal'));
  return names.map((name) => parseJournalFileName(name)?.owner.pid ?? -1);
}

describe('serve --workers', () => {
  let db: TestDatabase;
  let journal: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    journal = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-workers-'));
  });
  afterAll(async () => {
    await db.drop();
    await fs.rm(journal, { recursive: true, force: true });
  });

  it('2 workers share the port and the journal directory; SIGTERM drains both and every call lands its writes', async () => {
    const server = spawnNode([...RECEPTIONIST, 'serve', '--workers', '2'], {
      ...process.env,
      LOG_LEVEL: 'warn',
      PORT: '0',
      DATABASE_URL: db.url,
      JOURNAL_DIR: journal,
      DRAIN_TIMEOUT_S: '10',
    });
    const [, url] = await server.waitForLine(LISTENING);
    const calls = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const callSid = newCallSid();
        const { client } = await placeCall(url!, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE, Direction: 'inbound' });
        await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
        client.dtmf('2');
        await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'noted');
        return { client, callSid };
      }),
    );
    // Live calls journal under their worker's pid: both workers took calls.
    // Connections go round robin, and the webhooks' share of them is a race:
    // one call at a time more, until both workers have one (at most 4 more).
    for (let more = 0; more < 4 && new Set(await journalOwners(journal)).size < 2; more++) {
      const callSid = newCallSid();
      const { client } = await placeCall(url!, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE, Direction: 'inbound' });
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
      client.dtmf('2');
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'noted');
      calls.push({ client, callSid });
    }
    expect(new Set(await journalOwners(journal)).size).toBe(2);

    // SIGTERM on the primary: both workers drain; the live calls go on until they end.
    server.child.kill('SIGTERM');
    for (const { client, callSid } of calls) {
      client.stop(callSid);
      expect((await client.closed).code).toBe(1000);
    }
    expect(await server.exited).toEqual({ code: 0, signal: null });
    for (const { callSid } of calls) {
      expect(await db.knex('call_logs').where({ call_sid: callSid }).first('status')).toEqual({ status: 'completed' });
    }
    expect(await journalOwners(journal)).toEqual([]);
  });

  it("a second server process on the same journal directory never replays a live process's calls", async () => {
    const env = { ...process.env, LOG_LEVEL: 'info', PORT: '0', DATABASE_URL: db.url, JOURNAL_DIR: journal, DRAIN_TIMEOUT_S: '5' };
    const first = spawnNode([...RECEPTIONIST, 'serve'], env);
    const [, url] = await first.waitForLine(LISTENING);
    const callSid = newCallSid();
    const { client } = await placeCall(url!, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE, Direction: 'inbound' });
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    client.dtmf('2');
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'noted');
    expect(await journalOwners(journal)).toEqual([first.child.pid]);

    // Its recovery pass runs before it listens: the live call's journal is not its to claim.
    const second = spawnNode([...RECEPTIONIST, 'serve'], env);
    const [, secondUrl] = await second.waitForLine(LISTENING);
    const ready = (await (await fetch(`${secondUrl}/readyz`)).json()) as { journal: { recovered: number; pending: number } };
    expect(ready.journal).toMatchObject({ recovered: 0, pending: 0 });
    expect(second.output()).not.toMatch(/journal recovery pass/);
    expect(await journalOwners(journal)).toEqual([first.child.pid]);

    // The call ends on its own process and lands once.
    client.stop(callSid);
    expect((await client.closed).code).toBe(1000);
    first.child.kill('SIGTERM');
    second.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(await db.knex('call_logs').where({ call_sid: callSid }).first('status')).toEqual({ status: 'completed' });
    const session = await db.knex('call_sessions').where({ call_sid: callSid }).first('state');
    expect(session.state.callbackRequested).toBe(true);
    expect(await journalOwners(journal)).toEqual([]);
  });

  it('a replacement worker that dies at once does not stop the server: the healthy worker goes on serving and a replacement follows', async () => {
    const server = spawnNode([...RECEPTIONIST, 'serve', '--workers', '2'], {
      ...process.env,
      LOG_LEVEL: 'info',
      PORT: '0',
      DATABASE_URL: db.url,
      JOURNAL_DIR: journal,
      DRAIN_TIMEOUT_S: '5',
    });
    try {
      const [, url] = await server.waitForLine(LISTENING);
      const [doomed, healthy] = childPids(server.child.pid!);
      expect(healthy).toBeDefined();

      process.kill(doomed!, 'SIGKILL');
      const [, replacement] = await server.waitForLine(REPLACEMENT_LISTENING);
      // The replacement dies at once (a crash loop): it is replaced again, after a wait; the healthy worker never stops.
      process.kill(Number(replacement), 'SIGKILL');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const [, second] = await server.waitForLine(REPLACEMENT_LISTENING);
      expect(Number(second)).not.toBe(Number(replacement));
      expect(isAlive(healthy!)).toBe(true);
      expect(server.output()).toMatch(/"replace_in_ms":1000,"msg":"a server worker exited; replacing it"/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    }
  });
});
