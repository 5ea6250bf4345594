import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { JournalError } from '../errors.js';
import { encodeCallSid, type BufferedWrite, type CallHeader } from './journal-format.js';

/** What a flush needs of a declared operation: the data of its declaration (no schema, no functions). */
export interface DeclaredWrite {
  readonly table: string;
  readonly kind: 'insert' | 'upsert' | 'update';
  readonly tenantColumn: string;
  readonly key?: readonly string[];
  readonly idempotencyColumn?: string;
  readonly merge?: Readonly<Record<string, 'replace' | 'json' | 'keep'>>;
  readonly ifMissing?: 'fail' | 'ignore';
}

/** An error, as a dead letter records it. */
export interface DeadLetterReason {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

/** What a dead-letter file holds: the call's writes (or its unreadable journal) and why they cannot land. */
export interface DeadLetter {
  readonly reason: string;
  readonly error: DeadLetterReason;
  readonly call?: CallHeader;
  readonly writes?: readonly BufferedWrite[];
  /** When the rest of the call landed without these writes: why each could not land, by sequence number. */
  readonly rejected?: ReadonlyArray<{ readonly seq: number; readonly op: string; readonly idempotencyKey: string; readonly reason: DeadLetterReason }>;
  /** A journal that could not be parsed, as it was. */
  readonly rawJournal?: string;
  readonly journalFile?: string;
  /** The declarations of the letter's operations (what a flush needs of them), so a replay needs no app code. */
  readonly operations?: Readonly<Record<string, DeclaredWrite>>;
  readonly deadLetteredAt: string;
}

/**
 * The name of a call's dead letter: its call and stream (the writes of one
 * stream, whatever process dead-letters them), so that dead-lettering the
 * same writes again (a journal whose removal failed, replayed by the next
 * process) finds the letter already there.
 */
export function deadLetterName(call: Pick<CallHeader, 'callSid' | 'streamSid'>): string {
  return call.streamSid === null ? encodeCallSid(call.callSid) : `${encodeCallSid(call.callSid)}.${encodeCallSid(call.streamSid)}`;
}

/** The name of an unreadable journal's dead letter: its call and its content. */
export function unreadableLetterName(callSid: string, rawJournal: string): string {
  return `${encodeCallSid(callSid)}.unreadable-${createHash('sha256').update(rawJournal).digest('hex').slice(0, 16)}`;
}

/** A dead letter on disk: `written` is false when a letter of that name was already there (nothing was written). */
export interface WrittenDeadLetter {
  readonly file: string;
  readonly written: boolean;
}

/**
 * Writes a dead letter atomically (a temporary file, fsynced, then linked
 * to `<dir>/<name>.json`, which never replaces a letter already there).
 * Idempotent: a second letter of the same name is not written.
 * @throws {JournalError} it could not be written (the journal file must then stay).
 */
export function writeDeadLetter(dir: string, name: string, letter: DeadLetter): WrittenDeadLetter {
  const file = path.join(dir, `${name}.json`);
  if (fs.existsSync(file)) return { file, written: false };
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const fd = fs.openSync(temporary, 'w');
    try {
      fs.writeFileSync(fd, `${JSON.stringify(letter, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { file, written: false };
      throw error;
    }
    return { file, written: true };
  } catch (error) {
    throw new JournalError(`writing dead letter ${file} failed`, { cause: error });
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** How many dead letters `dir` holds. */
export function countDeadLetters(dir: string): number {
  try {
    return fs.readdirSync(dir).filter((name) => name.endsWith('.json')).length;
  } catch {
    return 0;
  }
}

/** The error, as a dead letter records it. */
export function describeError(error: unknown): DeadLetter['error'] {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}
