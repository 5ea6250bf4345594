import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Flusher } from '../../src/buffer/flusher.js';
import { JetStreamJournal, type JetStreamJournalOptions } from '../../src/buffer/jetstream-journal.js';
import { JournalError } from '../../src/errors.js';
import { receptionistWrites } from '../../reference/operations.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort, startNatsServer, waitFor, type NatsNode } from '../helpers/nats-server.js';
import { spawnNode } from '../helpers/processes.js';
import { ReceptionistBuffer } from '../helpers/receptionist-buffer.js';
import { testTelemetry } from '../helpers/telemetry.js';
import { insertTenants, type Tenants } from './fixture-data.js';

const silent = pino({ level: 'silent' });

function appointment(day: number, title = 'Visit') {
  return { startsAt: `2030-05-0${day}T10:00:00Z`, endsAt: `2030-05-0${day}T10:30:00Z`, title };
}

describe('JetStreamJournal (a real nats-server on loopback)', () => {
  let db: TestDatabase;
  let t: Tenants;
  let nats: { node: NatsNode; stop: () => Promise<void> };
  let streamNumber = 0;
  let cleanups: Array<() => Promise<unknown> | unknown> = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase();
    t = await insertTenants(db.knex);
  });
  afterAll(async () => {
    await nats?.stop();
    await db?.drop();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  /** A journal on its own stream (tests do not see each other's calls). */
  async function journalOn(url: string, options: Partial<JetStreamJournalOptions> = {}): Promise<JetStreamJournal> {
    const journal = await JetStreamJournal.connect({ url, replicas: 1, stream: `T${process.pid}_${streamNumber}`, subjectPrefix: `t${process.pid}.s${streamNumber}`, heartbeatTtlMs: 1000, ...options });
    cleanups.push(() => journal.close());
    return journal;
  }
  function flusherOf(journal: JetStreamJournal): Flusher {
    const flusher = new Flusher({ knex: db.knex, operations: receptionistWrites, journal, logger: silent, retryInitialDelayMs: 50, retryMaxDelayMs: 200 });
    cleanups.push(() => flusher.stop());
    return flusher;
  }

  it('refuses to start when NATS is unreachable, naming the URL with its credentials masked', async () => {
    const port = await freePort();
    const attempt = JetStreamJournal.connect({ url: `nats://app:s3cret@127.0.0.1:${port}`, replicas: 1, connectTimeoutMs: 1000 });
    await expect(attempt).rejects.toBeInstanceOf(JournalError);
    const error = (await attempt.catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(`JOURNAL_URL nats://***@127.0.0.1:${port} is unreachable`);
    expect(error.message).not.toContain('s3cret');
  });

  it('a write is durable once JetStream acknowledges it; the flush lands it and purges the call', async () => {
    streamNumber++;
    const journal = await journalOn(nats.node.url);
    const buffer = new ReceptionistBuffer({ callSid: 'CA_JS_ACK', businessId: t.a, leadId: t.aLead, journal });
    const enqueued = () => testTelemetry().metrics.histogramCount('live_call.journal.enqueue.duration', { 'live_call.journal.backend': 'jetstream' });
    const timedBefore = await enqueued();
    const write = buffer.createAppointment(appointment(1));
    expect(write.journaled).toBe(true);
    expect(await write.durable).toBe(true);
    // Enqueue → acknowledged, timed once for the write (the header is not a write).
    expect(await enqueued()).toBe(timedBefore + 1);
    expect(Object.values(await journal.callSubjects())).toEqual([2]); // the header and the write
    expect(journal.health()).toMatchObject({ writable: true, failures: 0 });

    const outcome = await flusherOf(journal).flush(buffer);
    expect(outcome).toMatchObject({ status: 'flushed' });
    expect(await db.knex('appointments').where({ call_sid: 'CA_JS_ACK' })).toHaveLength(1);
    await waitFor(async () => Object.keys(await journal.callSubjects()).length === 0, 10_000, 'the flushed call to be purged');
  });

  it('a dead letter stays visible in the stream; the call itself is purged', async () => {
    streamNumber++;
    const journal = await journalOn(nats.node.url);
    // B's lead in A's appointment: the composite foreign key refuses it, forever.
    const doomed = new ReceptionistBuffer({ callSid: 'CA_JS_DOOMED', businessId: t.a, leadId: t.bLead, journal });
    await doomed.createAppointment(appointment(2, 'never')).durable;
    const outcome = await flusherOf(journal).flush(doomed);
    expect(outcome).toMatchObject({ status: 'dead-lettered' });
    expect((outcome as { file: string }).file).toMatch(new RegExp(`^${journal.stream}:${journal.subjectPrefix.replace('.', '\\.')}\\.dead\\.`));
    const letters = await journal.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ call: { callSid: 'CA_JS_DOOMED' }, error: { code: '23503' } });
    expect(letters[0]!.writes).toHaveLength(1);
    expect(journal.countDeadLetters()).toBe(1);
    await waitFor(async () => Object.keys(await journal.callSubjects()).length === 0, 10_000, 'the dead-lettered call to be purged');
  });

  it('two instances racing for a SIGKILLed instance\'s calls land each call exactly once', async () => {
    streamNumber++;
    const stream = `T${process.pid}_${streamNumber}`;
    const calls = 4;
    const gone = spawnNode([
      '--import', 'tsx', 'test/buffer/fixtures/jetstream-enqueue-then-hang.ts',
      nats.node.url, stream, `t${process.pid}.s${streamNumber}`, 'instanceA', '1000', String(t.a), String(t.aLead), String(calls),
    ]);
    cleanups.push(() => gone.child.kill('SIGKILL'));
    await gone.waitForLine(new RegExp(`^DURABLE ${calls * 3}$`));
    gone.child.kill('SIGKILL');
    await gone.exited;

    const b = await journalOn(nats.node.url, { instanceId: 'instanceB' });
    const c = await journalOn(nats.node.url, { instanceId: 'instanceC' });
    expect(Object.keys(await b.callSubjects())).toHaveLength(calls);
    // Gone = its heartbeat expired (the bucket's max_age), not a pid.
    await waitFor(async () => (await b.instances.get('instanceA')) === null, 15_000, "instanceA's heartbeat to expire");

    const [fromB, fromC] = await Promise.all([flusherOf(b).recover(), flusherOf(c).recover()]);
    expect(fromB.claimed + fromC.claimed).toBe(calls);
    expect(fromB.flushed + fromC.flushed).toBe(calls);
    const sids = Array.from({ length: calls }, (_, n) => `CA_instanceA_${n + 1}`);
    const appointments = await db.knex('appointments').whereIn('call_sid', sids).select('call_sid');
    expect(appointments.map((row: { call_sid: string }) => row.call_sid).sort()).toEqual(sids);
    const sessions = await db.knex('call_sessions').whereIn('call_sid', sids).select('call_sid');
    expect(sessions).toHaveLength(calls);
    expect(Object.keys(await b.callSubjects())).toEqual([]);
    // A later pass finds nothing left to claim.
    expect(await flusherOf(b).recover()).toMatchObject({ claimed: 0 });
  });

  it('JetStream gone mid-call: the write is kept in memory, not durable; health degraded; new calls refused; the call still lands', async () => {
    const own = await startNatsServer('doomed');
    cleanups.push(() => own.stop());
    streamNumber++;
    const journal = await journalOn(own.node.url, { ackTimeoutMs: 1000 });
    const failures: JournalError[] = [];
    const buffer = new ReceptionistBuffer({ callSid: 'CA_JS_QUORUM', businessId: t.a, leadId: t.aLead, journal, onJournalFailure: (e) => failures.push(e) });
    expect(await buffer.updateLead({ customerName: 'Before' }).durable).toBe(true);

    await own.node.kill('SIGKILL');
    const during = buffer.createAppointment(appointment(3, 'during'));
    expect(await during.durable).toBe(false);
    expect(failures).toHaveLength(1);
    const after = buffer.updateSession({ state: { step: 'after' } });
    expect(after.journaled).toBe(false);
    expect(await after.durable).toBe(false);
    const health = journal.health();
    expect(health.writable).toBe(false);
    expect(health.reason).toMatch(/not acknowledged|connection .* lost/);
    expect(() => new ReceptionistBuffer({ callSid: 'CA_JS_REFUSED', businessId: t.a, journal })).toThrow(JournalError);

    // PostgreSQL is up: every write, in memory, lands at call end.
    const outcome = await flusherOf(journal).flush(buffer);
    expect(outcome).toMatchObject({ status: 'flushed' });
    expect(buffer.writes()).toHaveLength(3);
    expect(await db.knex('appointments').where({ call_sid: 'CA_JS_QUORUM' })).toHaveLength(1);
  });
});
