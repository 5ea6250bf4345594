import fs from 'node:fs';
import path from 'node:path';
import { freeJournalPath, JOURNAL_SUFFIX, parseJournalFileName } from './journal-file.js';
import type { Owner } from './owner.js';
import { isOwnerAlive } from './owner.js';

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
