import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trace } from '@opentelemetry/api';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../src/buffer/dead-letter.js';
import { flush } from '../../src/buffer/flush-transaction.js';
import { Flusher } from '../../src/buffer/flusher.js';
import { Journal } from '../../src/buffer/journal.js';
import { checkWriteSchema } from '../../src/buffer/schema-check.js';
import { WriteBuffer } from '../../src/buffer/write-buffer.js';
import knexFactory from 'knex';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { spanExporter } from '../helpers/spans.js';
import { clinicTenant, clinicWrites, createClinicSchema } from './clinic-schema.js';

const TENANT = 'happy-paws';

describe('a real schema at call end: (tenant, key) upserts, foreign-key order, partial landing, failover, dead letters re-landed once', () => {
  let db: TestDatabase;
  let dir: string;
  let cleanups: Array<() => Promise<void> | void>;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    await createClinicSchema(db.knex);
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcg-partial-'));
    cleanups = [];
  });
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function setup(knex = db.knex) {
    const journal = new Journal({ dir, fsync: 'none' });
    const flusher = new Flusher({
      knex,
      operations: clinicWrites,
      journal,
      tenantSchema: clinicTenant,
      logger: pino({ level: 'silent' }),
      retryInitialDelayMs: 5,
      retryMaxDelayMs: 20,
    });
    cleanups.push(
      () => flusher.stop(),
      () => journal.close(),
    );
    return { journal, flusher };
  }

  const buffer = (callSid: string, journal?: Journal) => new WriteBuffer({ operations: clinicWrites, callSid, tenantId: TENANT, ...(journal ? { journal } : {}) });

  it('an upsert keyed (tenant, key) lands, merges and replays; its key written without the tenant column conflicts on the same index', async () => {
    const { flusher, journal } = setup();
    await flusher.start();
    const call = buffer('CA_OWNER', journal);
    call.enqueue('saveOwner', { phone: '+1555', name: 'Ana' });
    call.enqueue('noteOwner', { phone: '+1555', notes: { dog: 'Rex' } });
    call.enqueue('noteOwner', { phone: '+1555', notes: { cat: 'Tom' } });
    expect(await flusher.flush(call)).toMatchObject({ status: 'flushed' });
    const again = buffer('CA_OWNER_2');
    again.enqueue('saveOwner', { phone: '+1555', name: 'Ana Maria' });
    await flush(db.knex, again, { schema: await flusher.checkDatabase() });
    expect(await db.knex('clinic.vet_owners').select('practice_slug', 'owner_phone', 'name', 'notes')).toEqual([
      { practice_slug: TENANT, owner_phone: '+1555', name: 'Ana Maria', notes: { dog: 'Rex', cat: 'Tom' } },
    ]);
  });

  it('a foreign key between two operations: the owner lands before the visit, whichever the agent enqueued first', async () => {
    const schema = await checkWriteSchema(db.knex, clinicWrites);
    for (const [callSid, visitFirst] of [['CA_FK_1', true], ['CA_FK_2', false]] as const) {
      const call = buffer(callSid);
      const phone = `+1666${callSid.slice(-1)}`;
      if (visitFirst) call.enqueue('bookVisit', { phone, reason: 'limping' });
      call.enqueue('saveOwner', { phone, name: 'Bo' });
      if (!visitFirst) call.enqueue('bookVisit', { phone, reason: 'limping' });
      const result = await flush(db.knex, call, { schema });
      expect(result.rejected).toEqual([]);
      expect(result.statements.map((statement) => statement.op)).toEqual(['saveOwner', 'bookVisit']);
      expect(await db.knex('clinic.vet_visits').where({ owner_phone: phone })).toHaveLength(1);
    }
  });

  it('one stale key and one bad row: the other writes land in one transaction, the two are dead-lettered with their reasons, re-landed once after the fix', async () => {
    const { flusher, journal } = setup();
    await flusher.start();
    const staleId = '00000000-0000-4000-8000-000000000001';
    const call = buffer('CA_PARTIAL', journal);
    call.enqueue('saveOwner', { phone: '+1777', name: 'Cy' });
    call.enqueue('bookVisit', { phone: '+1777', reason: 'vaccines' });
    call.enqueue('renameOwner', { id: staleId, name: 'Ghost' }); // a deleted row, a wrong id from the model
    call.enqueue('bookVisit', { phone: '+1777', reason: 'x'.repeat(41) }); // the check constraint refuses it
    call.enqueue('noteOwner', { phone: '+1777', notes: { allergy: 'none' } });
    const { outcome, traceId } = await trace.getTracer('test').startActiveSpan('test.call_end', async (span) => {
      try {
        return { outcome: await flusher.flush(call), traceId: span.spanContext().traceId };
      } finally {
        span.end();
      }
    });

    expect(outcome.status).toBe('flushed');
    if (outcome.status !== 'flushed') return;
    const landed = call.size - outcome.result.rejected.length;
    const figures = { enqueued: call.size, landed, deadLettered: outcome.result.rejected.length };
    console.log(`partial landing: ${JSON.stringify(figures)}`);
    expect(figures).toEqual({ enqueued: 5, landed: 3, deadLettered: 2 });
    // Flush order: saveOwner, renameOwner, noteOwner (enqueue order), then bookVisit (its foreign key names vet_owners).
    expect(outcome.result.rejected.map(({ write, reason }) => [write.seq, write.op, reason.code])).toEqual([
      [3, 'renameOwner', 'ERR_TENANT_MISMATCH'],
      [4, 'bookVisit', '23514'],
    ]);
    expect(await db.knex('clinic.vet_visits').where({ owner_phone: '+1777' }).select('reason')).toEqual([{ reason: 'vaccines' }]);
    expect(await db.knex('clinic.vet_owners').where({ owner_phone: '+1777' }).first('notes')).toEqual({ notes: { allergy: 'none' } });
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.journal'))).toEqual([]);
    expect(flusher.stats()).toMatchObject({ rejectedWrites: 2, deadLettered: 1, flushed: 1, degraded: false });

    const flushSpan = spanExporter()
      .getFinishedSpans()
      .find((span) => span.name === 'call.flush' && span.spanContext().traceId === traceId)!;
    expect(flushSpan.attributes['call.flush.dead_lettered']).toBe(2);
    expect(flushSpan.events.filter((event) => event.name === 'live_call.write_dead_lettered').map((event) => event.attributes?.['live_call.write.idempotency_key'])).toEqual([
      'CA_PARTIAL:3',
      'CA_PARTIAL:4',
    ]);

    const [summary] = flusher.deadLetters();
    expect(summary).toMatchObject({ callSid: 'CA_PARTIAL', tenantId: TENANT, writes: 2, replayable: true });
    const letter = JSON.parse(fs.readFileSync(path.join(journal.deadLetterDir, summary!.file), 'utf8')) as DeadLetter;
    expect(letter.rejected!.map((rejected) => [rejected.seq, rejected.reason.name])).toEqual([
      [3, 'TenantMismatchError'],
      [4, 'error'],
    ]);

    // Before the fix: nothing lands, the letter stays (in a new file).
    const early = await flusher.replayDeadLetters();
    expect(early).toMatchObject([{ status: 'partly', landed: 0, rejected: 2 }]);
    // The fix: the owner row exists under that id, the constraint admits the reason.
    await db.knex('clinic.vet_owners').insert({ id: staleId, practice_slug: TENANT, owner_phone: '+1888', name: 'Old' });
    await db.knex.raw('alter table clinic.vet_visits drop constraint vet_visits_reason_check');
    const replays = await flusher.replayDeadLetters();
    expect(replays).toMatchObject([{ status: 'landed', landed: 2, rejected: 0 }]);
    expect(await flusher.replayDeadLetters()).toEqual([]);
    expect(flusher.stats().deadLettered).toBe(0);
    expect(await db.knex('clinic.vet_visits').where({ owner_phone: '+1777' }).orderBy('reason')).toHaveLength(2);
    expect(await db.knex('clinic.vet_owners').where({ id: staleId }).first('name')).toEqual({ name: 'Ghost' });
  });

  it('a failover (the database read-only, 25006) is retried, never dead-lettered; the flusher says degraded until it lands', async () => {
    const { flusher, journal } = setup();
    await flusher.start();
    await db.knex.raw(`alter database ?? set default_transaction_read_only = on`, [db.name]);
    // Fresh connections see the setting.
    const readOnly = knexFactory({ client: 'pg', version: '15', connection: { connectionString: db.url, application_name: 'lcg-read-only' }, pool: { min: 0, max: 2 } });
    cleanups.push(() => readOnly.destroy());
    const writer = setup(readOnly);
    const call = buffer('CA_READONLY', writer.journal);
    call.enqueue('saveOwner', { phone: '+1999', name: 'Di' });
    call.enqueue('bookVisit', { phone: '+1999', reason: 'check-up' });
    const retried = new Promise<void>((resolve) => writer.flusher.once('retry', ({ error }) => (expect((error as { code?: string }).code).toBe('25006'), resolve())));
    const landing = writer.flusher.flush(call);
    await retried;
    expect(writer.flusher.stats()).toMatchObject({ degraded: true, deadLettered: 0 });
    await db.knex.raw(`alter database ?? set default_transaction_read_only = off`, [db.name]);
    // The failover ends: the sessions that saw the read-only database are gone (what a promoted standby's clients see).
    await db.knex.raw("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'lcg-read-only'");
    expect(await landing).toMatchObject({ status: 'flushed' });
    expect(writer.flusher.stats()).toMatchObject({ degraded: false, deadLettered: 0 });
    expect(await db.knex('clinic.vet_visits').where({ owner_phone: '+1999' })).toHaveLength(1);
    expect(fs.readdirSync(journal.deadLetterDir).filter((name) => name.endsWith('.json'))).toEqual([]);
  });
});
