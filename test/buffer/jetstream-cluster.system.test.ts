import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Flusher } from '../../src/buffer/flusher.js';
import { JetStreamJournal, type JetStreamJournalOptions } from '../../src/buffer/jetstream-journal.js';
import { JournalError } from '../../src/errors.js';
import { receptionistWrites } from '../../reference/operations.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startNatsCluster, waitFor, type NatsNode } from '../helpers/nats-server.js';
import { spawnNode } from '../helpers/processes.js';
import { ReceptionistBuffer } from '../helpers/receptionist-buffer.js';
import { insertTenants, type Tenants } from './fixture-data.js';

const silent = pino({ level: process.env.TEST_LOG ?? 'silent' });

/**
 * The JetStream journal on a 3-node cluster (R3) of real nats-server
 * processes on loopback: a node (the stream's leader) killed, quorum lost
 * and back, and an app instance SIGKILLed with a node: what was
 * acknowledged lands, once.
 */
describe('JetStreamJournal on a 3-node cluster (R3)', () => {
  let db: TestDatabase;
  let t: Tenants;
  let cluster: { nodes: NatsNode[]; url: string; stop: () => Promise<void> };
  let streamNumber = 0;
  let cleanups: Array<() => Promise<unknown> | unknown> = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await insertTenants(db.knex);
  });
  afterAll(async () => {
    await db?.drop();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
    await cluster?.stop();
  });

  async function journalOn(options: Partial<JetStreamJournalOptions> = {}): Promise<JetStreamJournal> {
    const journal = await JetStreamJournal.connect({
      url: cluster.url,
      replicas: 3,
      stream: `C${process.pid}_${streamNumber}`,
      subjectPrefix: `c${process.pid}.s${streamNumber}`,
      heartbeatTtlMs: 2000,
      ackTimeoutMs: 15_000,
      ...options,
    });
    cleanups.push(() => journal.close());
    return journal;
  }
  function flusherOf(journal: JetStreamJournal): Flusher {
    const flusher = new Flusher({ knex: db.knex, operations: receptionistWrites, journal, logger: silent });
    cleanups.push(() => flusher.stop());
    return flusher;
  }
  async function streamLeader(journal: JetStreamJournal): Promise<NatsNode> {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: cluster.url.split(',') });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(journal.stream);
      const node = cluster.nodes.find((candidate) => candidate.name === info.cluster?.leader);
      if (!node) throw new Error(`no leader for stream ${journal.stream}: ${JSON.stringify(info.cluster)}`);
      return node;
    } finally {
      await nc.close();
    }
  }

  it('the stream leader killed mid-call: no acknowledged write lost, the call goes on', async () => {
    cluster = await startNatsCluster();
    streamNumber++;
    const journal = await journalOn();
    const buffer = new ReceptionistBuffer({ callSid: 'CA_R3_LEADER', businessId: t.a, leadId: t.aLead, journal });
    const before = Array.from({ length: 10 }, (_, n) => buffer.updateSession({ state: { before: n } }).durable);
    expect(await Promise.all(before)).toEqual(Array(10).fill(true));

    const leader = await streamLeader(journal);
    await leader.kill('SIGKILL');
    const after = Array.from({ length: 10 }, (_, n) => buffer.updateSession({ state: { after: n } }).durable);
    after.push(buffer.createAppointment({ startsAt: '2030-06-01T10:00:00Z', endsAt: '2030-06-01T10:30:00Z', title: 'after the kill' }).durable);
    expect(await Promise.all(after)).toEqual(Array(11).fill(true));
    // A heartbeat during the election may have failed: the journal is writable again once its re-probe passes.
    await waitFor(() => journal.health().writable, 15_000, 'the journal writable after the election');
    // Every acknowledged write is in the stream: the header and 21 writes.
    expect(Object.values(await journal.callSubjects())).toEqual([22]);

    expect(await flusherOf(journal).flush(buffer)).toMatchObject({ status: 'flushed' });
    expect(await db.knex('appointments').where({ call_sid: 'CA_R3_LEADER' })).toHaveLength(1);
  });

  it('an app instance SIGKILLed with a NATS node: another instance lands every acknowledged write, once', async () => {
    cluster = await startNatsCluster();
    streamNumber++;
    const stream = `C${process.pid}_${streamNumber}`;
    const calls = 3;
    const gone = spawnNode([
      '--import', 'tsx', 'test/buffer/fixtures/jetstream-enqueue-then-hang.ts',
      cluster.url, stream, `c${process.pid}.s${streamNumber}`, 'hostA', '2000', String(t.a), String(t.aLead), String(calls), '3',
    ]);
    cleanups.push(() => gone.child.kill('SIGKILL'));
    await gone.waitForLine(new RegExp(`^DURABLE ${calls * 3}$`));
    // The host is lost: the process, its local state (it has none), and one NATS node with it.
    gone.child.kill('SIGKILL');
    await gone.exited;
    await cluster.nodes[0]!.kill('SIGKILL');
    const survivors = cluster.nodes.slice(1).map((node) => node.name);
    await waitFor(async () => survivors.includes((await cluster.nodes[1]!.metaLeader()) ?? ''), 30_000, 'a meta leader among the two nodes left');

    // While the cluster re-elects the leaders the dead node held, a start is refused (a supervisor retries it).
    let b: JetStreamJournal | undefined;
    const survivorsUrl = cluster.nodes.slice(1).map((node) => node.url).join(',');
    await waitFor(async () => (b = await journalOn({ instanceId: 'hostB', url: survivorsUrl, ackTimeoutMs: 5000 }).catch(() => undefined)) !== undefined, 60_000, 'instance B to start');
    await waitFor(async () => (await b!.instances.get('hostA')) === null, 30_000, "hostA's heartbeat to expire");
    // Recovery passes (every recoveryIntervalMs in a server) until everything landed: a pass during re-election may time out.
    const flusher = flusherOf(b!);
    const total = { claimed: 0, flushed: 0, deadLettered: 0 };
    await waitFor(async () => {
      const report = await flusher.recover();
      total.claimed += report.claimed;
      total.flushed += report.flushed;
      total.deadLettered += report.deadLettered;
      return total.flushed >= calls;
    }, 60_000, 'the gone instance\'s calls to land');
    expect(total).toEqual({ claimed: calls, flushed: calls, deadLettered: 0 });
    const sids = Array.from({ length: calls }, (_, n) => `CA_hostA_${n + 1}`);
    expect(await db.knex('appointments').whereIn('call_sid', sids)).toHaveLength(calls);
    expect(await db.knex('call_sessions').whereIn('call_sid', sids)).toHaveLength(calls);
    expect(Object.keys(await b!.callSubjects())).toEqual([]);
  });

  it('quorum lost (two of three killed): not durable, health degraded, new calls refused; quorum back: writes again', async () => {
    cluster = await startNatsCluster();
    streamNumber++;
    const journal = await journalOn({ ackTimeoutMs: 2000 });
    const buffer = new ReceptionistBuffer({ callSid: 'CA_R3_QUORUM', businessId: t.a, leadId: t.aLead, journal });
    expect(await buffer.updateLead({ customerName: 'Before' }).durable).toBe(true);

    await Promise.all([cluster.nodes[1]!.kill('SIGKILL'), cluster.nodes[2]!.kill('SIGKILL')]);
    const during = buffer.createAppointment({ startsAt: '2030-06-02T10:00:00Z', endsAt: '2030-06-02T10:30:00Z', title: 'no quorum' });
    expect(during.journaled).toBe(true);
    expect(await during.durable).toBe(false);
    expect(journal.health().writable).toBe(false);
    expect(() => new ReceptionistBuffer({ callSid: 'CA_R3_REFUSED', businessId: t.a, journal })).toThrow(JournalError);
    expect(buffer.updateSession({ state: { step: 'in memory' } }).journaled).toBe(false);

    await Promise.all([cluster.nodes[1]!.start(), cluster.nodes[2]!.start()]);
    await waitFor(() => journal.health().writable, 60_000, 'the journal to take writes again');
    const next = new ReceptionistBuffer({ callSid: 'CA_R3_AGAIN', businessId: t.a, leadId: t.aLead, journal });
    expect(await next.updateSession({ state: { step: 'again' } }).durable).toBe(true);
    // The call of the outage lands from memory.
    expect(await flusherOf(journal).flush(buffer)).toMatchObject({ status: 'flushed' });
    expect(await db.knex('appointments').where({ call_sid: 'CA_R3_QUORUM' })).toHaveLength(1);
  });
});
