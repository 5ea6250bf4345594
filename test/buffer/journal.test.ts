import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/buffer/journal.js';
import { parseJournal, parseJournalFileName } from '../../src/buffer/journal-format.js';
import { ReceptionistBuffer } from '../helpers/receptionist-buffer.js';
import { ConfigError, InvalidWriteError, JournalError } from '../../src/errors.js';

describe('Journal', () => {
  let dir: string;
  let journals: Journal[];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcg-journal-'));
    journals = [];
  });
  afterEach(() => {
    for (const journal of journals) journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function open(options: Partial<ConstructorParameters<typeof Journal>[0]> = {}): Journal {
    const journal = new Journal({ dir, ...options });
    journals.push(journal);
    return journal;
  }

  function journalFiles(): string[] {
    return fs.readdirSync(dir).filter((name) => name.endsWith('.journal'));
  }

  it.each(['write', 'interval', 'none'] as const)('fsync %s: each write is in the file when enqueue returns', (fsync) => {
    const journal = open({ fsync });
    const buffer = new ReceptionistBuffer({ callSid: 'CA_J1', businessId: 1, leadId: 2, journal });
    buffer.updateLead({ customerName: 'Dana' });
    const [file] = journalFiles();
    expect(file).toMatch(new RegExp(`^CA_J1\\.${process.pid}-\\d+\\.0\\.journal$`));
    const afterOne = parseJournal(fs.readFileSync(path.join(dir, file!), 'utf8'), file!);
    expect(afterOne.header).toEqual({ callSid: 'CA_J1', streamSid: null, tenantId: 1, bindings: { leadId: 2, direction: 'inbound' } });
    expect(afterOne.writes).toEqual(buffer.writes().map(({ journaled: _, ...write }) => write));

    buffer.createAppointment({ startsAt: '2030-01-01T10:00:00+02:00', endsAt: '2030-01-01T09:00:00Z', title: 'x' });
    const afterTwo = parseJournal(fs.readFileSync(path.join(dir, file!), 'utf8'), file!);
    expect(afterTwo.writes.map((w) => w.idempotencyKey)).toEqual(['CA_J1:1', 'CA_J1:2']);
    expect(afterTwo.writes[1]).toMatchObject({ op: 'createAppointment', row: { starts_at: '2030-01-01T08:00:00.000Z' } });
  });

  it('a rejected operation is not journaled', () => {
    const journal = open();
    const buffer = new ReceptionistBuffer({ callSid: 'CA_J2', businessId: 1, journal });
    expect(() => buffer.updateSession({})).toThrow(InvalidWriteError);
    const [file] = journalFiles();
    expect(parseJournal(fs.readFileSync(path.join(dir, file!), 'utf8'), file!).writes).toEqual([]);
  });

  it('a write the journal cannot take stays in memory (journaled: false); the failure is reported once and counted', () => {
    const journal = open({ fsync: 'none' });
    const failures: JournalError[] = [];
    const buffer = new ReceptionistBuffer({ callSid: 'CA_J3', businessId: 1, journal, onJournalFailure: (error) => failures.push(error) });
    expect(buffer.updateSession({ summary: 'kept' }).journaled).toBe(true);
    buffer.journalFile!.close(); // as if the file had gone bad
    expect(buffer.updateSession({ summary: 'in memory' }).journaled).toBe(false);
    expect(buffer.updateSession({ summary: 'in memory too' }).journaled).toBe(false);
    expect(buffer.size).toBe(3);
    expect(buffer.durable).toBe(false);
    expect(failures).toHaveLength(1);
    expect(journal.health()).toMatchObject({ writable: false, failures: 1 });

    // persist() journals the whole buffer anew: nothing is lost if the flush must wait for the next process.
    expect(buffer.persist()).toBe(true);
    const files = journalFiles();
    expect(files).toHaveLength(1);
    const contents = parseJournal(fs.readFileSync(path.join(dir, files[0]!), 'utf8'), files[0]!);
    expect(contents.writes.map((w) => w.op)).toEqual(buffer.writes().map((w) => w.op));
  });

  it.each([1, 2])('a journal of the receptionist\'s first format (v%i) is refused, naming its version', (v) => {
    const text = `${JSON.stringify({ type: 'call', v, callSid: 'CA_OLD', businessId: 1, leadId: null, direction: 'inbound' })}\n${JSON.stringify({ type: 'write', seq: 1, op: { kind: 'updateSession', summary: 's' } })}\n`;
    expect(() => parseJournal(text, 'CA_OLD.1-1.0.journal')).toThrow(new RegExp(`line 1: journal format v${v} is not read \\(this version reads v3 only\\)`));
  });

  it.each(['CA.dot', 'CA/slash', 'CA%pct', '..', 'CA:colon'])('a call sid that is no file name (%s) is encoded in its file name and read back', (callSid) => {
    const journal = open();
    const buffer = new ReceptionistBuffer({ callSid, businessId: 1, journal });
    buffer.updateSession({ summary: 'x' });
    const files = journalFiles();
    expect(files).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, files[0]!))).toBe(true);
    expect(parseJournalFileName(files[0]!)?.callSid).toBe(callSid);
    expect(parseJournal(fs.readFileSync(path.join(dir, files[0]!), 'utf8'), files[0]!).header.callSid).toBe(callSid);
  });

  it('probe() names the directory and the error when the journal cannot keep writes', () => {
    const journal = open();
    expect(() => journal.probe()).not.toThrow();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, 'not a directory');
    try {
      expect(() => journal.probe()).toThrow(/JOURNAL_DIR .* cannot keep writes: ENOTDIR/);
    } finally {
      fs.rmSync(dir, { force: true });
      fs.mkdirSync(dir);
    }
  });

  it('marking a call flushed removes its file; closing keeps it', () => {
    const journal = open();
    const flushed = new ReceptionistBuffer({ callSid: 'CA_J4', businessId: 1, journal });
    const kept = new ReceptionistBuffer({ callSid: 'CA_J5', businessId: 1, journal });
    flushed.updateSession({ summary: 'x' });
    kept.updateSession({ summary: 'y' });
    kept.close();
    flushed.journalFile!.markFlushed();
    expect(journalFiles().map((name) => name.split('.')[0])).toEqual(['CA_J5']);
    expect(journal.openCalls).toBe(0);
  });

  it('is bounded: past maxOpenCalls a new call is refused with JournalError', () => {
    const journal = open({ maxOpenCalls: 2 });
    new ReceptionistBuffer({ callSid: 'CA_B1', businessId: 1, journal });
    const second = new ReceptionistBuffer({ callSid: 'CA_B2', businessId: 1, journal });
    expect(() => new ReceptionistBuffer({ callSid: 'CA_B3', businessId: 1, journal })).toThrow(/maxOpenCalls/);
    second.close();
    expect(() => new ReceptionistBuffer({ callSid: 'CA_B3', businessId: 1, journal })).not.toThrow();
  });

  it('two buffers of one call sid in one process get two files', () => {
    const journal = open();
    new ReceptionistBuffer({ callSid: 'CA_TWICE', businessId: 1, journal });
    new ReceptionistBuffer({ callSid: 'CA_TWICE', businessId: 1, journal });
    expect(journalFiles().sort()).toEqual([
      expect.stringMatching(/^CA_TWICE\..*\.0\.journal$/),
      expect.stringMatching(/^CA_TWICE\..*\.1\.journal$/),
    ]);
  });

  it('a torn last line (a crash inside write) is ignored; other garbage is corruption', () => {
    const header = JSON.stringify({ type: 'call', v: 3, callSid: 'CA_T', streamSid: null, tenantId: 1, bindings: {} });
    const write = JSON.stringify({ type: 'write', seq: 1, op: 'updateSession', row: { call_sid: 'CA_T', summary: 'x' } });
    expect(parseJournal(`${header}\n${write}\n{"type":"wri`, 'f').writes).toHaveLength(1);
    expect(() => parseJournal(`${header}\n{"type":"wri\n${write}\n`, 'f')).toThrow(/line 2: not JSON/);
    expect(() => parseJournal(`${header}\n${write}\n${write}\n`, 'f')).toThrow(/seq 1 out of order/);
    expect(() => parseJournal('', 'f')).toThrow(/no call header/);
  });

  it('fails at construction on bad options', () => {
    expect(() => open({ fsync: 'sometimes' as never })).toThrow(ConfigError);
    expect(() => open({ fsyncIntervalMs: 0 })).toThrow(/fsyncIntervalMs/);
  });

  it('close syncs and closes every file; the journal then refuses new calls', () => {
    const journal = open();
    const buffer = new ReceptionistBuffer({ callSid: 'CA_J6', businessId: 1, journal });
    buffer.updateSession({ summary: 'x' });
    journal.close();
    expect(journal.openCalls).toBe(0);
    expect(() => new ReceptionistBuffer({ callSid: 'CA_J7', businessId: 1, journal })).toThrow(/closed/);
  });
});
