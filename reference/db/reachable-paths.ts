import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SystemUser } from './system-user.js';

/**
 * Running as root, PostgreSQL runs as an unprivileged user who must reach its
 * binaries and its data directory. A checkout under a private folder (a
 * mode-700 home or `mktemp -d`) is out of that user's reach: these helpers
 * find out, and give places under the system temp folder instead.
 */

/** Whether `user` can `test -<flag>` the path (every parent folder traversed). */
export function userCan(user: SystemUser, flag: 'x' | 'r' | 'w', target: string): boolean {
  const result = spawnSync('test', [`-${flag}`, target], { uid: user.uid, gid: user.gid, cwd: '/' });
  return result.status === 0;
}

/**
 * The PostgreSQL binaries where `user` can run them: where they are, or a copy
 * under the temp folder (made once, atomically, then reused).
 */
export async function reachableBinaries<T extends { initdb: string; pg_ctl: string }>(user: SystemUser, binaries: T): Promise<T> {
  if (userCan(user, 'x', binaries.pg_ctl)) return binaries;
  const nativeDir = path.dirname(path.dirname(binaries.pg_ctl)); // <native>/bin/pg_ctl
  const key = createHash('sha256').update(nativeDir).digest('hex').slice(0, 12);
  const copy = path.join(os.tmpdir(), `live-call-guard-postgres-${key}`);
  const relocate = (file: string): string => path.join(copy, path.relative(nativeDir, file));
  if (!(await exists(path.join(copy, '.complete')))) {
    const staging = `${copy}.${process.pid}`;
    await fs.rm(staging, { recursive: true, force: true });
    await fs.cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await fs.writeFile(path.join(staging, '.complete'), '');
    await fs.chmod(staging, 0o755);
    await fs.rm(copy, { recursive: true, force: true });
    await fs.rename(staging, copy).catch(async (error: NodeJS.ErrnoException) => {
      // Another process made the copy first: use theirs.
      await fs.rm(staging, { recursive: true, force: true });
      if (!(await exists(path.join(copy, '.complete')))) throw error;
    });
  }
  return { ...binaries, initdb: relocate(binaries.initdb), pg_ctl: relocate(binaries.pg_ctl) };
}

/**
 * A data directory `user` can reach: `dataDir` itself when its parent folder
 * is reachable, else one under the temp folder named after it.
 */
export async function reachableDataDir(user: SystemUser, dataDir: string): Promise<string> {
  const parent = path.dirname(dataDir);
  await fs.mkdir(parent, { recursive: true });
  if (userCan(user, 'x', parent)) return dataDir;
  const key = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  const relocated = path.join(os.tmpdir(), 'live-call-guard-data', key);
  await fs.mkdir(path.dirname(relocated), { recursive: true, mode: 0o755 });
  await fs.chmod(path.dirname(relocated), 0o755);
  return relocated;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
