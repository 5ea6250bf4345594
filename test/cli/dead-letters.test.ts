import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flusher } from '../../src/buffer/flusher.js';
import { Journal } from '../../src/buffer/journal.js';
import { WriteBuffer } from '../../src/buffer/write-buffer.js';
import { deadLettersCommand } from '../../src/cli/dead-letters-command.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { clinicWrites, createClinicSchema } from '../buffer/clinic-schema.js';
import { captureCli, type CliOutcome } from '../helpers/cli-output.js';

const run = (args: string[], env: NodeJS.ProcessEnv): Promise<CliOutcome> => captureCli((io) => deadLettersCommand(args, io, env));

describe('live-call-guard dead-letters list|replay', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    await createClinicSchema(db.knex);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcg-cli-dead-'));
  });
  afterAll(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists a call whose visit could not land, re-lands it once after the fix, and a second replay finds nothing', async () => {
    const journal = new Journal({ dir, fsync: 'none' });
    const flusher = new Flusher({ knex: db.knex, operations: clinicWrites, journal, logger: pino({ level: 'silent' }) });
    try {
      await flusher.start();
      const call = new WriteBuffer({ operations: clinicWrites, callSid: 'CA_CLI', tenantId: 'happy-paws', journal });
      call.enqueue('saveOwner', { phone: '+1444', name: 'Eve' });
      call.enqueue('bookVisit', { phone: '+1444', reason: 'y'.repeat(50) });
      expect(await flusher.flush(call)).toMatchObject({ status: 'flushed', deadLetter: expect.any(String) });
    } finally {
      await flusher.stop();
      journal.close();
    }
    const env = { DATABASE_URL: db.url };
    const listed = await run(['list', '--journal-dir', dir], env);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).toMatch(/call CA_CLI {2}tenant happy-paws {2}1 write\(s\)/);
    expect(listed.stdout).toMatch(/1 dead letter\(s\) in /);

    expect(await run(['replay', '--journal-dir', dir], env)).toMatchObject({ code: 1, stdout: expect.stringMatching(/partly {2}landed 0, still dead 1/) });
    await db.knex.raw('alter table clinic.vet_visits drop constraint vet_visits_reason_check');
    const replayed = await run(['replay', '--journal-dir', dir], env);
    expect(replayed).toMatchObject({ code: 0, stdout: expect.stringMatching(/landed {2}landed 1, still dead 0\n1 of 1 dead letter\(s\) landed/) });
    expect(await run(['replay', '--journal-dir', dir], env)).toMatchObject({ code: 0, stdout: '0 of 0 dead letter(s) landed\n' });
    expect(await db.knex('clinic.vet_visits').where({ owner_phone: '+1444' })).toHaveLength(1);
    expect((await run(['list', '--journal-dir', dir, '--format', 'json'], env)).stdout).toBe('[]\n');
  });

  it('refuses bad arguments with exit 2 and what was wrong', async () => {
    expect(await run(['purge', '--journal-dir', dir], {})).toMatchObject({ code: 2, stderr: expect.stringMatching(/^live-call-guard dead-letters: the action must be list or replay/) });
    expect(await run(['list'], {})).toMatchObject({ code: 2, stderr: expect.stringMatching(/--journal-dir DIR \(or JOURNAL_DIR\) is required/) });
    expect(await run(['replay', '--journal-dir', dir], {})).toMatchObject({ code: 2, stderr: expect.stringMatching(/replay needs DATABASE_URL/) });
  });
});
