import fs from 'node:fs';
import path from 'node:path';
import { JournalError } from '../errors.js';
import type { Journal } from './journal.js';
import type { JournalRecoveryHost } from './journal-recovery.js';
import { describeError, unreadableLetterName, writeDeadLetter } from './dead-letter.js';
import type { RecoveryReport } from './flush-outcome.js';
import { freeJournalPath, isHeaderless, JOURNAL_SUFFIX, parseJournal, parseJournalFileName } from './journal-format.js';
import type { Owner } from './owner.js';
import { isOwnerAlive } from './owner.js';
import { WriteBuffer } from './write-buffer.js';
import type { WriteOperations } from './write-operation.js';

/** A journal file left by a process that is gone. */
export interface OrphanJournal {
  readonly path: string;
  readonly callSid: string;
  readonly owner: Owner;
}

/** The journal files in `dir` whose owner no longer runs (never this process's own). */
export function findOrphans(dir: string): OrphanJournal[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const orphans: OrphanJournal[] = [];
  for (const name of names) {
    if (!name.endsWith(JOURNAL_SUFFIX)) continue;
    const parsed = parseJournalFileName(name);
    if (parsed && !isOwnerAlive(parsed.owner)) orphans.push({ path: path.join(dir, name), ...parsed });
  }
  return orphans;
}

/**
 * Claims an orphan for `owner` by renaming it to a name of `owner`'s.
 * rename(2) is atomic: of two recoverers racing for one file, exactly one
 * succeeds; the other gets ENOENT and returns undefined. A claimed file is
 * owned by a live process, so nobody else touches it; if the claimer dies
 * too, the file is an orphan again and is claimed anew.
 * @returns the claimed file's new path, or undefined if someone else got it.
 */
export function claimOrphan(orphan: OrphanJournal, owner: Owner): string | undefined {
  const target = freeJournalPath(path.dirname(orphan.path), orphan.callSid, owner);
  if (!target) return undefined;
  try {
    fs.renameSync(orphan.path, target);
    return target;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** What a claimed orphan turned out to hold. */
export type TakenOrphan =
  /** Writes to replay: a closed buffer whose flush marks (removes) the claimed file. */
  | { readonly kind: 'replay'; readonly buffer: WriteBuffer }
  /** Nothing to write (already flushed, no writes, or not even a whole header); the file is removed. */
  | { readonly kind: 'empty' }
  /** A journal that cannot be parsed: for the dead letters. The claimed file is still there. */
  | { readonly kind: 'unreadable'; readonly error: JournalError; readonly text: string; readonly path: string };

/**
 * Claims an orphan for `journal`'s process and reads it.
 * @returns undefined when another recoverer claimed it first.
 */
export function takeOrphan(orphan: OrphanJournal, journal: Journal, operations: WriteOperations): TakenOrphan | undefined {
  const claimed = claimOrphan(orphan, journal.owner);
  if (!claimed) return undefined;
  const text = fs.readFileSync(claimed, 'utf8');
  if (isHeaderless(text)) {
    journal.adopt(claimed).remove();
    return { kind: 'empty' };
  }
  let contents;
  try {
    contents = parseJournal(text, orphan.path);
  } catch (error) {
    if (!(error instanceof JournalError)) throw error;
    return { kind: 'unreadable', error, text, path: claimed };
  }
  const file = journal.adopt(claimed);
  if (contents.flushed || contents.writes.length === 0) {
    file.remove();
    return { kind: 'empty' };
  }
  return { kind: 'replay', buffer: WriteBuffer.restore(contents, file, operations) };
}

/** What a recovery pass needs from the flusher that runs it. */
export interface RecoveryHost extends JournalRecoveryHost {
  readonly journal: Journal;
}

/**
 * One recovery pass: the journal files of processes that are gone are
 * claimed (one recoverer each, see takeOrphan) and replayed; unreadable ones
 * go to the dead letters with their raw text. Files of live processes are
 * never touched.
 */
export async function recoverOrphans(host: RecoveryHost): Promise<RecoveryReport> {
  const report = { claimed: 0, flushed: 0, deadLettered: 0, deferred: 0, empty: 0 };
  const queue = findOrphans(host.journal.dir);
  const worker = async () => {
    for (let orphan = queue.shift(); orphan && !host.isStopped(); orphan = queue.shift()) {
      try {
        await recoverOne(host, orphan, report);
      } catch (error) {
        host.logger.error({ err: error, file: orphan.path }, 'recovering a journal file failed');
      }
    }
  };
  await Promise.all(Array.from({ length: host.concurrency }, worker));
  if (report.claimed > 0) host.logger.info(report, 'journal recovery pass');
  return report;
}

async function recoverOne(host: RecoveryHost, orphan: OrphanJournal, report: { -readonly [K in keyof RecoveryReport]: number }): Promise<void> {
  const { journal } = host;
  const taken = takeOrphan(orphan, journal, host.operations);
  if (!taken) return;
  report.claimed++;
  if (taken.kind === 'empty') {
    report.empty++;
  } else if (taken.kind === 'unreadable') {
    const letter = writeDeadLetter(journal.deadLetterDir, unreadableLetterName(orphan.callSid, taken.text), {
      reason: `unreadable journal: ${taken.error.message}`,
      error: describeError(taken.error),
      rawJournal: taken.text,
      journalFile: path.basename(orphan.path),
      deadLetteredAt: new Date().toISOString(),
    });
    fs.rmSync(taken.path, { force: true });
    report.deadLettered++;
    host.deadLettered(orphan.callSid, taken.error.message, letter);
  } else {
    const outcome = await host.replay(taken.buffer);
    if (outcome.status === 'flushed') report.flushed++;
    else if (outcome.status === 'dead-lettered') report.deadLettered++;
    else report.deferred++;
  }
}
