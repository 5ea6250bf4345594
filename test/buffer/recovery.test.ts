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

describe('recovery of journals that never acknowledged a write', () => {
  let db: TestDatabase;
  let dir: string;
  let deadPid: number;
  let stops: Array<() => Promise<void> | void>;

  beforeAll(async () => {
    db = await createTestDatabase();
    const dead = spawnNode(['-e', '']);
    await dead.exited;
    deadPid = dead.child.pid!;
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcg-recovery-'));
    stops = [];
  });
  afterEach(async () => {
    for (const stop of stops.reverse()) await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function flusherOn(journalDir: string): Flusher {
    const journal = new Journal({ dir: journalDir, fsync: 'none' });
    const flusher = new Flusher({ knex: db.knex, operations: receptionistWrites, journal, logger: pino({ level: 'silent' }) });
    stops.push(
      () => flusher.stop(),
      () => journal.close(),
    );
    return flusher;
  }

  it('an empty or torn-header journal (killed between open and header, ENOSPC on the header) is dropped, not dead-lettered', async () => {
    const header = JSON.stringify({ type: 'call', v: 3, callSid: 'CA_TORN', streamSid: null, tenantId: 1, bindings: {} });
    fs.writeFileSync(path.join(dir, `CA_EMPTY.${deadPid}-0.0.journal`), '');
    fs.writeFileSync(path.join(dir, `CA_TORN.${deadPid}-0.0.journal`), header.slice(0, 30));
    fs.writeFileSync(path.join(dir, `CA_NO_NEWLINE.${deadPid}-0.0.journal`), header.replace('CA_TORN', 'CA_NO_NEWLINE'));

    const flusher = flusherOn(dir);
    expect(await flusher.recover()).toMatchObject({ claimed: 3, empty: 3, deadLettered: 0 });
    expect(fs.readdirSync(path.join(dir, 'dead-letter'))).toEqual([]);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.journal'))).toEqual([]);
    expect(flusher.stats().deadLettered).toBe(0);
  });

  it('a journal whose header is garbage with its newline is still corruption: dead-lettered', async () => {
    fs.writeFileSync(path.join(dir, `CA_BAD_HEADER.${deadPid}-0.0.journal`), 'not a header\n');
    const flusher = flusherOn(dir);
    expect(await flusher.recover()).toMatchObject({ claimed: 1, deadLettered: 1 });
    expect(flusher.stats().deadLettered).toBe(1);
  });
});
