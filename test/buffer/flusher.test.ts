import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { Knex } from 'knex';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../src/buffer/dead-letter.js';
import { Flusher, type FlusherOptions } from '../../src/buffer/flusher.js';
import { Journal } from '../../src/buffer/journal.js';
import { headerLine, writeLine } from '../../src/buffer/journal-format.js';
import { ReceptionistBuffer } from '../helpers/receptionist-buffer.js';
import { receptionistWrites } from '../../reference/operations.js';
import { createKnex } from '../../reference/db/knex.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startPgWireCounter, type PgWireCounter } from '../helpers/pg-wire-counter.js';
import { isAlive, spawnNode } from '../helpers/processes.js';
import { insertTenants, type Tenants } from './fixture-data.js';

/** Collects metrics on demand. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function logLines() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
  return { logger, lines };
}

function appointment(day: number, title = 'Visit') {
  return { startsAt: `2030-03-0${day}T10:00:00Z`, endsAt: `2030-03-0${day}T10:30:00Z`, title };
}

describe('Flusher', () => {
  let db: TestDatabase;
  let t: Tenants;
  let dir: string;
  let cleanups: Array<() => Promise<void> | void>;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await insertTenants(db.knex);
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcg-flusher-'));
    cleanups = [];
  });
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function setup(options: Partial<FlusherOptions> = {}) {
    const journal = new Journal({ dir, fsync: 'none' });
    const { logger, lines } = logLines();
    const flusher = new Flusher({ knex: db.knex, operations: receptionistWrites, journal, logger, retryInitialDelayMs: 5, retryMaxDelayMs: 50, ...options });
    cleanups.push(
      () => flusher.stop(),
      () => journal.close(),
    );
    return { journal, flusher, lines };
  }

  function journalFiles(): string[] {
    return fs.readdirSync(dir).filter((name) => name.endsWith('.journal'));
  }

  it('a flushed call lands once and its journal file is gone', async () => {
    const { journal, flusher } = setup();
    const buffer = new ReceptionistBuffer({ callSid: 'CA_F1', businessId: t.a, leadId: t.aLead, journal });
    buffer.createAppointment(appointment(1));
    expect(journalFiles()).toHaveLength(1);
    const outcome = await flusher.flush(buffer);
    expect(outcome).toMatchObject({ status: 'flushed', attempts: 1 });
    expect(journalFiles()).toEqual([]);
    expect(await db.knex('appointments').where({ call_sid: 'CA_F1' })).toHaveLength(1);
    expect(flusher.stats()).toMatchObject({ pending: 0, flushed: 1, deadLettered: 0 });
  });

  it('recovers the writes of a SIGKILLed process: every write present exactly once', async () => {
    const child = spawnNode([
      '--import',
      'tsx',
      'test/buffer/fixtures/enqueue-then-hang.ts',
      dir,
      String(t.a),
      String(t.aLead),
      'none',
    ]);
    await child.waitForLine(/^ENQUEUED 7$/);
    child.child.kill('SIGKILL');
    await child.exited;
    expect(isAlive(child.child.pid!)).toBe(false);
    expect(journalFiles()).toHaveLength(2);

    const { flusher } = setup();
    const report = await flusher.recover();
    expect(report).toMatchObject({ claimed: 2, flushed: 2, deadLettered: 0 });
    expect(journalFiles()).toEqual([]);

    const appointments = await db.knex('appointments').where({ call_sid: 'CA_CRASH_LIVE' }).orderBy('idempotency_key');
    expect(appointments.map((a) => [a.idempotency_key, a.title])).toEqual([
      ['CA_CRASH_LIVE:2', 'Cleaning'],
      ['CA_CRASH_LIVE:4', 'Check-up'],
    ]);
    expect(await db.knex('leads').where({ id: t.aLead }).first()).toMatchObject({ customer_name: 'Dana', phone: '+15550004444' });
    expect(await db.knex('call_sessions').whereIn('call_sid', ['CA_CRASH_LIVE', 'CA_CRASH_ENDED']).orderBy('call_sid')).toEqual([
      expect.objectContaining({ call_sid: 'CA_CRASH_ENDED', summary: 'caller hung up' }),
      expect.objectContaining({ call_sid: 'CA_CRASH_LIVE', state: { step: 'booked' } }),
    ]);
    expect(await db.knex('call_logs').where({ call_sid: 'CA_CRASH_ENDED' })).toEqual([
      expect.objectContaining({ business_id: t.a, status: 'completed', duration_seconds: 12 }),
    ]);

    // Nothing is left to replay.
    expect(await flusher.recover()).toMatchObject({ claimed: 0 });
    expect(await db.knex('appointments').where({ call_sid: 'CA_CRASH_LIVE' })).toHaveLength(2);
    expect(flusher.stats()).toMatchObject({ recovered: 2, pending: 0 });
  });

  it('two recoverers racing for the same files replay each exactly once', async () => {
    const dead = spawnNode(['-e', '']);
    await dead.exited;
    const deadPid = dead.child.pid!;
    const sids = ['CA_RACE_1', 'CA_RACE_2', 'CA_RACE_3', 'CA_RACE_4', 'CA_RACE_5'];
    for (const sid of sids) {
      const source = new ReceptionistBuffer({ callSid: sid, businessId: t.a });
      source.createAppointment({ ...appointment(5), title: sid });
      fs.writeFileSync(path.join(dir, `${sid}.${deadPid}-0.0.journal`), headerLine(source.call) + writeLine(source.writes()[0]!));
    }
    const first = setup();
    const second = setup();
    const flushed: string[] = [];
    for (const { flusher } of [first, second]) flusher.on('flushed', ({ callSid }) => flushed.push(callSid));
    const [a, b] = await Promise.all([first.flusher.recover(), second.flusher.recover()]);
    expect(a.claimed + b.claimed).toBe(sids.length);
    expect(flushed.sort()).toEqual(sids);
    expect(await db.knex('appointments').whereIn('call_sid', sids).count({ n: '*' })).toEqual([{ n: '5' }]);
  });

  it('leaves the journal of a live process alone', async () => {
    const { journal } = setup();
    const buffer = new ReceptionistBuffer({ callSid: 'CA_MINE', businessId: t.a, journal });
    buffer.updateSession({ summary: 'still talking' });
    const other = setup();
    expect(await other.flusher.recover()).toMatchObject({ claimed: 0 });
    expect(journalFiles()).toHaveLength(1);
  });

  describe('through a proxy', () => {
    let wire: PgWireCounter;
    let viaWire: Knex;

    beforeEach(async () => {
      wire = await startPgWireCounter(db.url);
      viaWire = createKnex(wire.url, { poolMax: 2 });
      cleanups.push(
        () => wire.close(),
        () => viaWire.destroy(),
      );
    });

    it('a flush while the database is down is retried until it lands, exactly once; each attempt is timed by its outcome', async () => {
      const reader = new TestReader();
      const meterProvider = new MeterProvider({ readers: [reader] });
      cleanups.push(() => meterProvider.shutdown());
      const { journal, flusher } = setup({ knex: viaWire, meterProvider });
      const buffer = new ReceptionistBuffer({ callSid: 'CA_DOWN', businessId: t.a, leadId: t.aLead, journal });
      buffer.createAppointment(appointment(2));
      buffer.updateSession({ summary: 'booked' });
      wire.setRefusing(true);

      const landing = flusher.flush(buffer);
      const [retry] = await once(flusher, 'retry');
      expect(retry).toMatchObject({ callSid: 'CA_DOWN', attempt: 1 });
      expect(flusher.stats().pending).toBe(1);
      expect(journalFiles()).toHaveLength(1);
      wire.setRefusing(false);

      const outcome = await landing;
      expect(outcome.status).toBe('flushed');
      expect(outcome.attempts).toBeGreaterThan(1);
      expect(await db.knex('appointments').where({ call_sid: 'CA_DOWN' })).toHaveLength(1);
      expect(await db.knex('call_sessions').where({ call_sid: 'CA_DOWN' })).toHaveLength(1);
      expect(flusher.stats()).toMatchObject({ pending: 0, flushed: 1 });
      expect(journalFiles()).toEqual([]);

      const { resourceMetrics } = await reader.collect();
      const histograms = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
      const points = (name: string) =>
        histograms.find((m) => m.descriptor.name === name)!.dataPoints.map((p) => ({ ...p.attributes, count: (p.value as { count: number }).count, sum: (p.value as { sum: number }).sum }));
      expect(points('live_call.buffer.flush.duration')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ 'call.flush.outcome': 'failed', count: outcome.attempts - 1 }),
          expect.objectContaining({ 'call.flush.outcome': 'landed', count: 1 }),
        ]),
      );
      expect(points('live_call.buffer.flush.statements')).toEqual([{ count: 1, sum: 2 }]); // one statement per operation
      expect(points('live_call.buffer.call_writes')).toEqual([{ count: 1, sum: 2 }]);
    });

    it('a connection cut in the middle of the transaction is retried; the writes land once', async () => {
      const { flusher } = setup({ knex: viaWire });
      const buffer = new ReceptionistBuffer({ callSid: 'CA_CUT', businessId: t.a, leadId: t.aLead });
      buffer.createAppointment(appointment(3));
      buffer.updateSession({ state: { cut: true } });
      let cut = false;
      wire.onStatement = (statement) => {
        if (!cut && /^commit/i.test(statement.sql)) {
          cut = true;
          wire.cutConnections(); // before COMMIT reaches the server
        }
      };
      const outcome = await flusher.flush(buffer);
      expect(cut).toBe(true);
      expect(outcome).toMatchObject({ status: 'flushed' });
      expect(outcome.attempts).toBeGreaterThan(1);
      expect(await db.knex('appointments').where({ call_sid: 'CA_CUT' })).toHaveLength(1);
    });
  });

  it('a permanent failure is dead-lettered, counted and logged, and another call still lands', async () => {
    const { journal, flusher, lines } = setup();
    // B's lead in A's appointment: the composite foreign key refuses it, forever.
    const doomed = new ReceptionistBuffer({ callSid: 'CA_DOOMED', businessId: t.a, leadId: t.bLead, journal });
    doomed.createAppointment(appointment(4, 'never'));
    const fine = new ReceptionistBuffer({ callSid: 'CA_FINE', businessId: t.a, leadId: t.aLead, journal });
    fine.createAppointment(appointment(4, 'fine'));

    const [bad, good] = await Promise.all([flusher.flush(doomed), flusher.flush(fine)]);
    expect(bad).toMatchObject({ status: 'dead-lettered', attempts: 1 });
    expect(good).toMatchObject({ status: 'flushed' });
    expect(await db.knex('appointments').where({ call_sid: 'CA_FINE' })).toHaveLength(1);

    const letter = JSON.parse(fs.readFileSync((bad as { file: string }).file, 'utf8')) as DeadLetter;
    expect(letter.reason).toMatch(/foreign key/);
    expect(letter.error.code).toBe('23503');
    expect(letter.call).toMatchObject({ callSid: 'CA_DOOMED', tenantId: t.a, bindings: { leadId: t.bLead } });
    expect(letter.writes).toHaveLength(1);
    expect(journalFiles()).toEqual([]);
    expect(flusher.stats().deadLettered).toBe(1);
    expect(lines.find((line) => line.msg?.toString().includes('dead-lettered'))).toMatchObject({ callSid: 'CA_DOOMED' });

    // A new flusher on the same journal counts earlier dead letters too.
    expect(setup().flusher.stats().deadLettered).toBe(1);
  });

  it('an unreadable orphan journal is dead-lettered with the reason', async () => {
    const dead = spawnNode(['-e', '']);
    await dead.exited;
    fs.writeFileSync(path.join(dir, `CA_GARBAGE.${dead.child.pid}-0.0.journal`), 'not json\n');
    const { flusher } = setup();
    expect(await flusher.recover()).toMatchObject({ claimed: 1, deadLettered: 1 });
    const [letterFile] = fs.readdirSync(path.join(dir, 'dead-letter'));
    const letter = JSON.parse(fs.readFileSync(path.join(dir, 'dead-letter', letterFile!), 'utf8')) as DeadLetter;
    expect(letter).toMatchObject({ rawJournal: 'not json\n', reason: expect.stringMatching(/unreadable journal.*not JSON/) });
  });

  it('stop defers a flush that is waiting to retry: the writes stay in the journal', async () => {
    const unreachable = await startPgWireCounter(db.url);
    unreachable.setRefusing(true);
    const knex = createKnex(unreachable.url, { poolMax: 1 });
    cleanups.push(
      () => unreachable.close(),
      () => knex.destroy(),
    );
    const { journal, flusher } = setup({ knex, retryInitialDelayMs: 60_000, retryMaxDelayMs: 60_000 });
    const buffer = new ReceptionistBuffer({ callSid: 'CA_DEFER', businessId: t.a, journal });
    buffer.updateSession({ summary: 'later' });
    const landing = flusher.flush(buffer);
    await once(flusher, 'retry');
    await flusher.stop();
    expect(await landing).toMatchObject({ status: 'deferred' });
    expect(journalFiles()).toHaveLength(1);
  });

  it('reports pending and dead-lettered calls as OpenTelemetry metrics', async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    cleanups.push(() => meterProvider.shutdown());
    const { journal, flusher } = setup({ meterProvider });
    const doomed = new ReceptionistBuffer({ callSid: 'CA_METRIC', businessId: t.a, leadId: t.bLead, journal });
    doomed.createAppointment(appointment(6));
    new ReceptionistBuffer({ callSid: 'CA_METRIC_OPEN', businessId: t.a, journal });
    await flusher.flush(doomed);

    const { resourceMetrics } = await reader.collect();
    const values = Object.fromEntries(
      resourceMetrics.scopeMetrics
        .filter((scope) => scope.scope.name === 'live-call-guard')
        .flatMap((scope) => scope.metrics)
        .map((metric) => [metric.descriptor.name, metric.dataPoints[0]?.value]),
    );
    expect(values).toMatchObject({
      'live_call.buffer.pending': 0,
      'live_call.buffer.dead_lettered': 1,
      'live_call.buffer.open': 1,
      'live_call.buffer.dead_letters': 1,
    });
  });
});
