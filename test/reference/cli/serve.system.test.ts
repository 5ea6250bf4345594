import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../../reference/db/seed.js';
import { createTestDatabase } from '../../helpers/database.js';
import { newCallSid, placeCall } from '../../helpers/media-server.js';
import { isAlive, postmasterPid, RECEPTIONIST, spawnNode, type Spawned } from '../../helpers/processes.js';


/** The environment of a fresh machine: no DATABASE_URL, so the embedded server is used. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...extra };
  if (!('DATABASE_URL' in extra)) delete env.DATABASE_URL;
  return env;
}

function serve(env: NodeJS.ProcessEnv): Spawned {
  return spawnNode([...RECEPTIONIST, 'serve'], cleanEnv(env));
}

/** The embedded cluster of a DATA_DIR. */
const clusterOf = (dataDir: string): string => path.join(dataDir, 'postgres');

describe('live-call-guard serve', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-serve-'));
    await fs.chmod(dataDir, 0o755);
  });
  afterAll(async () => {
    const pid = await postmasterPid(clusterOf(dataDir));
    if (pid && isAlive(pid)) process.kill(pid, 'SIGQUIT');
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('serves /healthz on the embedded database, recovers after SIGKILL, and stops cleanly on SIGTERM', async () => {
    const first = serve({ DATA_DIR: dataDir, PORT: '0' });
    const [, url] = await first.waitForLine(/^live-call-guard listening on (http:\/\/\S+)$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(first.output()).toMatch(/database: embedded PostgreSQL postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/live_call_guard/);

    first.child.kill('SIGKILL');
    await first.exited;
    const orphan = await postmasterPid(clusterOf(dataDir));
    expect(orphan && isAlive(orphan)).toBe(true);

    const second = serve({ DATA_DIR: dataDir, PORT: '0' });
    const [, secondUrl] = await second.waitForLine(/^live-call-guard listening on (http:\/\/\S+)$/);
    expect((await fetch(`${secondUrl}/healthz`)).status).toBe(200);
    expect(isAlive(orphan!)).toBe(false);
    const running = await postmasterPid(clusterOf(dataDir));

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(await postmasterPid(clusterOf(dataDir))).toBeUndefined();
    expect(isAlive(running!)).toBe(false);
  });

  it('SIGTERM with a call in progress: the call is ended, its writes land, exit 0', async () => {
    const db = await createTestDatabase();
    const journal = path.join(dataDir, 'journal-sigterm');
    try {
      const server = serve({ DATABASE_URL: db.url, PORT: '0', JOURNAL_DIR: journal, DRAIN_TIMEOUT_S: '1' });
      const [, url] = await server.waitForLine(/^live-call-guard listening on (http:\/\/\S+)$/);
      const callSid = newCallSid();
      const { client } = await placeCall(url!, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: '+15551230001' });
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
      client.dtmf('1');
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'booked');

      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect((await client.closed).code).toBe(1001);
      expect(await db.knex('appointments').where({ call_sid: callSid })).toHaveLength(1);
      expect(await db.knex('call_logs').where({ call_sid: callSid }).first('status')).toEqual({ status: 'completed' });
    } finally {
      await db.drop();
    }
  });

  it('exits 1 with one line when the HTTP port is in use, leaving no PostgreSQL behind', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const child = serve({ DATA_DIR: dataDir, PORT: String(port) });
      expect((await child.exited).code).toBe(1);
      expect(child.output()).toContain(`receptionist: PORT ${port} is already in use on 127.0.0.1`);
      expect(child.output()).not.toMatch(/\n\s+at /);
      expect(await postmasterPid(clusterOf(dataDir))).toBeUndefined();
    } finally {
      blocker.close();
    }
  });

  it.each([
    [{ PORT: 'abc' }, 'receptionist: Invalid configuration: PORT must be an integer from 0 to 65535 (received "abc")'],
    [
      { LIVE_CALL_GUARD: 'loud' },
      'receptionist: Invalid configuration: LIVE_CALL_GUARD must be one of report, block, off (received "loud")',
    ],
    [
      { DATABASE_URL: 'not a url:secret@' },
      'receptionist: Invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// URL with a host',
    ],
  ])('exits 1 on invalid configuration %o, with one line naming it', async (env, expected) => {
    const child = serve({ DATA_DIR: dataDir, ...env });
    expect((await child.exited).code).toBe(1);
    expect(child.output().trim().split('\n')).toHaveLength(1);
    expect(child.output()).toContain(expected);
    expect(child.output()).not.toContain('secret');
  });

  it('exits 1 when DATABASE_URL refuses connections, with the password masked', async () => {
    const child = serve({ DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:1/calls', PORT: '0' });
    expect((await child.exited).code).toBe(1);
    expect(child.output()).toContain(
      'receptionist: cannot reach the database postgres://app:***@127.0.0.1:1/calls: ECONNREFUSED',
    );
    expect(child.output()).not.toContain('hunter2');
  });
});
