import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../../reference/db/seed.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { newCallSid, placeCall } from '../../helpers/media-server.js';
import { freePort, startNatsServer, waitFor, type NatsNode } from '../../helpers/nats-server.js';
import { RECEPTIONIST, spawnNode, type Spawned } from '../../helpers/processes.js';

function serve(env: NodeJS.ProcessEnv): Spawned {
  return spawnNode([...RECEPTIONIST, 'serve'], { ...process.env, LOG_LEVEL: 'warn', PORT: '0', ...env });
}

/** Keys of the instances bucket: the instances whose heartbeat is live. */
async function liveInstances(url: string): Promise<string[]> {
  const { connect } = await import('@nats-io/transport-node');
  const { Kvm } = await import('@nats-io/kv');
  const nc = await connect({ servers: url });
  try {
    const kv = await new Kvm(nc).open('LCG_JOURNAL_instances');
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    return keys;
  } finally {
    await nc.close();
  }
}

/** The reference server on the JetStream journal (`JOURNAL_URL`), as separate processes with separate local state. */
describe('live-call-guard serve with JOURNAL_URL (JetStream)', () => {
  let nats: { node: NatsNode; stop: () => Promise<void> };
  let db: TestDatabase;
  let root: string;

  beforeAll(async () => {
    nats = await startNatsServer('serve');
    db = await createTestDatabase();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-serve-js-'));
  });
  afterAll(async () => {
    await nats?.stop();
    await db?.drop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('host lost (JetStream): instance A SIGKILLed and its local data deleted; instance B lands the booking A acknowledged, once', async () => {
    const dataA = path.join(root, 'a');
    const a = serve({ DATABASE_URL: db.url, JOURNAL_URL: nats.node.url, DATA_DIR: dataA });
    const [, url] = await a.waitForLine(/^live-call-guard listening on (http:\/\/\S+)$/);
    const callSid = newCallSid();
    const { client } = await placeCall(url!, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: '+15551230001' });
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    client.dtmf('1');
    // The agent says "booked" once JetStream acknowledged the appointment.
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'booked');

    a.child.kill('SIGKILL');
    await a.exited;
    await fs.rm(dataA, { recursive: true, force: true });
    expect(await db.knex('appointments').where({ call_sid: callSid })).toHaveLength(0);

    // A is gone once its heartbeat expires (15 s by default); B's start recovers it.
    await waitFor(async () => (await liveInstances(nats.node.url)).length === 0, 40_000, "A's heartbeat to expire");
    const b = serve({ DATABASE_URL: db.url, JOURNAL_URL: nats.node.url, DATA_DIR: path.join(root, 'b') });
    try {
      await b.waitForLine(/^live-call-guard listening on /);
      expect(await db.knex('appointments').where({ call_sid: callSid })).toHaveLength(1);
    } finally {
      b.child.kill('SIGTERM');
      expect((await b.exited).code).toBe(0);
    }
  }, 240_000);

  it('exits 1 when JOURNAL_URL is unreachable, naming it with its credentials masked', async () => {
    const port = await freePort();
    const child = serve({ DATABASE_URL: db.url, JOURNAL_URL: `nats://app:hunter2@127.0.0.1:${port}`, DATA_DIR: path.join(root, 'c') });
    expect((await child.exited).code).toBe(1);
    expect(child.output()).toContain(`JOURNAL_URL nats://***@127.0.0.1:${port} is unreachable`);
    expect(child.output()).not.toContain('hunter2');
  });
});
