import fs from 'node:fs';
import path from 'node:path';
import { JournalError } from '../errors.js';
import type { BufferedWrite, CallHeader } from './journal-format.js';

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
 * Writes a dead letter atomically (a temporary file, fsynced, renamed) as
 * `<dir>/<name>.<time>.json` and returns its path.
 * @throws {JournalError} it could not be written (the journal file must then stay).
 */
export function writeDeadLetter(dir: string, name: string, letter: DeadLetter): string {
  const file = path.join(dir, `${name}.${Date.now()}.json`);
  const temporary = `${file}.tmp`;
  try {
    const fd = fs.openSync(temporary, 'w');
    try {
      fs.writeFileSync(fd, `${JSON.stringify(letter, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
    return file;
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw new JournalError(`writing dead letter ${file} failed`, { cause: error });
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
