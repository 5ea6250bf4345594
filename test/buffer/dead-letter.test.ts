import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Flusher } from '../../src/buffer/flusher.js';
import { Journal } from '../../src/buffer/journal.js';
import { receptionistWrites } from '../../reference/operations.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { spawnNode } from '../helpers/processes.js';
import { ReceptionistBuffer } from '../helpers/receptionist-buffer.js';
import { insertTenants, type Tenants } from './fixture-data.js';

describe('dead letters', () => {
  let db: TestDatabase;
  let t: Tenants;
  let dir: string;
  let stops: Array<() => Promise<void> | void>;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await insertTenants(db.knex);
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcg-dead-letter-'));
    stops = [];
  });
  afterEach(async () => {
    for (const stop of stops.reverse()) await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function open() {
    const journal = new Journal({ dir, fsync: 'none' });
    const flusher = new Flusher({ knex: db.knex, operations: receptionistWrites, journal, logger: pino({ level: 'silent' }) });
    stops.push(
      () => flusher.stop(),
      () => journal.close(),
    );
    return { journal, flusher };
  }

  const letters = () => fs.readdirSync(path.join(dir, 'dead-letter'));

  it('a call whose journal could not be removed after its letter was written is dead-lettered once, not again by the next process', async () => {
    const first = open();
    // B's lead in A's appointment: the composite foreign key refuses it, forever.
    const doomed = new ReceptionistBuffer({ callSid: 'CA_TWICE', streamSid: 'MZ_TWICE', businessId: t.a, leadId: t.bLead, journal: first.journal });
    doomed.createAppointment({ startsAt: '2030-04-01T10:00:00Z', endsAt: '2030-04-01T10:30:00Z', title: 'never' });
    const journalPath = doomed.journalFile!.path;
    const journaled = fs.readFileSync(journalPath, 'utf8');
    // The journal file cannot be removed (a directory stands in its place): the letter is written, the removal fails.
    fs.rmSync(journalPath);
    fs.mkdirSync(journalPath);
    fs.writeFileSync(path.join(journalPath, 'keep'), '');

    expect(await first.flusher.flush(doomed)).toMatchObject({ status: 'deferred' });
    expect(letters()).toHaveLength(1);
    await first.flusher.stop();
    first.journal.close();

    // The process dies; its journal file is what the next process finds.
    fs.rmSync(journalPath, { recursive: true });
    const dead = spawnNode(['-e', '']);
    await dead.exited;
    fs.writeFileSync(path.join(dir, `CA_TWICE.${dead.child.pid}-0.0.journal`), journaled);

    const next = open();
    expect(await next.flusher.recover()).toMatchObject({ claimed: 1, deadLettered: 1 });
    expect(letters()).toHaveLength(1);
    expect(next.flusher.stats().deadLettered).toBe(1);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.journal'))).toEqual([]);
  });

  it('two streams of one call that both fail get a letter each', async () => {
    const { journal, flusher } = open();
    for (const streamSid of ['MZ_ONE', 'MZ_TWO']) {
      const doomed = new ReceptionistBuffer({ callSid: 'CA_TWO_STREAMS', streamSid, businessId: t.a, leadId: t.bLead, journal });
      doomed.createAppointment({ startsAt: '2030-04-02T10:00:00Z', endsAt: '2030-04-02T10:30:00Z', title: streamSid });
      expect(await flusher.flush(doomed)).toMatchObject({ status: 'dead-lettered' });
    }
    expect(letters()).toHaveLength(2);
    expect(flusher.stats().deadLettered).toBe(2);
  });

  it('an unreadable journal met twice (its removal failed the first time) leaves one letter', async () => {
    const dead = spawnNode(['-e', '']);
    await dead.exited;
    const orphan = path.join(dir, `CA_GARBAGE.${dead.child.pid}-0.0.journal`);
    fs.writeFileSync(orphan, 'not json\n');
    const first = open();
    expect(await first.flusher.recover()).toMatchObject({ deadLettered: 1 });
    fs.writeFileSync(orphan, 'not json\n');
    const second = open();
    expect(await second.flusher.recover()).toMatchObject({ claimed: 1 });
    expect(letters()).toHaveLength(1);
    expect(second.flusher.stats().deadLettered).toBe(1);
  });
});
