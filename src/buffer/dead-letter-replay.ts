import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { describeError, writeDeadLetter, type DeadLetter, type DeclaredWrite } from './dead-letter.js';
import { flush } from './flush-transaction.js';
import type { CheckedSchema } from './schema-check.js';
import { WriteBuffer } from './write-buffer.js';
import type { WriteOperations, WriteOperationSpec } from './write-operation.js';

/** Where a re-landed dead letter goes (inside the dead-letter directory): kept, never replayed again. */
export const REPLAYED_DIR = 'replayed';

/** One dead letter, as `dead-letters list` shows it. */
export interface DeadLetterSummary {
  /** The file name in the dead-letter directory. */
  readonly file: string;
  readonly callSid: string | null;
  readonly tenantId: string | number | null;
  readonly writes: number;
  readonly reason: string;
  readonly deadLetteredAt: string;
  /** False for an unreadable journal kept as it was (nothing to replay), or an unreadable letter. */
  readonly replayable: boolean;
}

/** What re-landing one dead letter came to. */
export interface DeadLetterReplay {
  readonly file: string;
  /**
   * `landed`: every write landed (the letter moved to `replayed/`);
   * `partly`: some still cannot land (they stay, in a new letter);
   * `unreplayable`: nothing to replay; `failed`: the database refused the attempt (the letter stays).
   */
  readonly status: 'landed' | 'partly' | 'unreplayable' | 'failed';
  readonly landed: number;
  readonly rejected: number;
  readonly reason?: string;
}

export interface ReplayDeadLettersOptions {
  knex: Knex;
  /** The dead-letter directory (`<journal dir>/dead-letter`). */
  dir: string;
  /** The app's operations. Default: the declarations each letter carries. */
  operations?: WriteOperations;
  /** File names to replay. Default all. */
  files?: readonly string[];
  /** What the start check read (conflict targets, foreign-key order). Default none. */
  schema?: CheckedSchema;
  statementTimeoutMs?: number;
  logger?: Logger;
}

/** The dead letters in `dir`, oldest first. */
export function listDeadLetters(dir: string): DeadLetterSummary[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  return names
    .map((file) => summarize(file, readLetter(path.join(dir, file))))
    .sort((a, b) => a.deadLetteredAt.localeCompare(b.deadLetteredAt) || a.file.localeCompare(b.file));
}

/**
 * Re-lands dead letters after a fix (the row a stale key named exists
 * again, the database is writable, the constraint was corrected), each ONE
 * time: its writes are flushed in one transaction, as at the call's end
 * (idempotency keys unchanged, so a write that landed before lands no
 * second row), then the letter moves to `replayed/`; a second replay finds
 * nothing to do. Writes that still cannot land stay, in a new letter.
 */
export async function replayDeadLetters(options: ReplayDeadLettersOptions): Promise<DeadLetterReplay[]> {
  const wanted = options.files ? new Set(options.files) : undefined;
  const letters = listDeadLetters(options.dir).filter((letter) => !wanted || wanted.has(letter.file));
  const replays: DeadLetterReplay[] = [];
  for (const summary of letters) replays.push(await replayOne(summary, options));
  return replays;
}

async function replayOne(summary: DeadLetterSummary, options: ReplayDeadLettersOptions): Promise<DeadLetterReplay> {
  const file = path.join(options.dir, summary.file);
  const letter = readLetter(file);
  if (!letter?.call || !letter.writes || letter.writes.length === 0) {
    return { file: summary.file, status: 'unreplayable', landed: 0, rejected: 0, reason: 'the letter holds no writes (an unreadable journal is kept as it was)' };
  }
  const operations = options.operations ?? operationsOf(letter.operations ?? {});
  let buffer: WriteBuffer;
  let result;
  try {
    buffer = WriteBuffer.restore({ header: letter.call, writes: letter.writes, flushed: false }, undefined, operations);
    result = await flush(options.knex, buffer, {
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.statementTimeoutMs ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  } catch (error) {
    return { file: summary.file, status: 'failed', landed: 0, rejected: letter.writes.length, reason: describeError(error).message };
  }
  if (result.rejected.length > 0) {
    const still = new Set(result.rejected.map(({ write }) => write.seq));
    writeDeadLetter(options.dir, `${path.basename(summary.file, '.json')}.again`, {
      ...letter,
      reason: `${result.rejected.length} of ${letter.writes.length} write(s) still cannot land: ${result.rejected[0]!.reason.message}`,
      error: result.rejected[0]!.reason,
      writes: letter.writes.filter((write) => still.has(write.seq)),
      rejected: result.rejected.map(({ write, reason }) => ({ seq: write.seq, op: write.op, idempotencyKey: write.idempotencyKey, reason })),
      deadLetteredAt: new Date().toISOString(),
    });
  }
  moveToReplayed(options.dir, summary.file);
  const landed = letter.writes.length - result.rejected.length;
  options.logger?.info({ file: summary.file, callSid: letter.call.callSid, landed, rejected: result.rejected.length }, 'dead letter replayed');
  return { file: summary.file, status: result.rejected.length > 0 ? 'partly' : 'landed', landed, rejected: result.rejected.length };
}

/** What a flush needs of each named operation, for a dead letter. */
export function declarationsOf(operations: WriteOperations, names: readonly string[]): Record<string, DeclaredWrite> {
  const declared: Record<string, DeclaredWrite> = {};
  for (const name of new Set(names)) {
    const op = operations[name];
    if (!op) continue;
    declared[name] = {
      table: op.table,
      kind: op.kind,
      tenantColumn: op.tenantColumn,
      ...(op.key ? { key: [...op.key] } : {}),
      ...(op.idempotencyColumn ? { idempotencyColumn: op.idempotencyColumn } : {}),
      ...(op.merge ? { merge: { ...op.merge } } : {}),
      ...(op.ifMissing ? { ifMissing: op.ifMissing } : {}),
    };
  }
  return declared;
}

/** Operations rebuilt from a letter's declarations: rows are already built, so no schema or row function is needed. */
function operationsOf(declared: Readonly<Record<string, DeclaredWrite>>): WriteOperations {
  const operations: Record<string, WriteOperationSpec> = {};
  for (const [name, op] of Object.entries(declared)) {
    operations[name] = { ...op, schema: z.never(), row: () => ({}) };
  }
  return operations;
}

function moveToReplayed(dir: string, file: string): void {
  const replayed = path.join(dir, REPLAYED_DIR);
  fs.mkdirSync(replayed, { recursive: true });
  fs.renameSync(path.join(dir, file), path.join(replayed, file));
}

function readLetter(file: string): DeadLetter | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as DeadLetter;
  } catch {
    return undefined;
  }
}

function summarize(file: string, letter: DeadLetter | undefined): DeadLetterSummary {
  return {
    file,
    callSid: letter?.call?.callSid ?? null,
    tenantId: letter?.call?.tenantId ?? null,
    writes: letter?.writes?.length ?? 0,
    reason: letter?.reason ?? 'unreadable dead letter',
    deadLetteredAt: letter?.deadLetteredAt ?? '',
    replayable: Boolean(letter?.call && letter.writes && letter.writes.length > 0),
  };
}
