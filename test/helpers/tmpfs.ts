import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Tmpfs {
  readonly dir: string;
  /** Fills the file system: a file grown until the disk says ENOSPC. */
  fill(): void;
  /** Frees what fill() took. */
  free(): void;
  unmount(): void;
}

/**
 * A real, tiny file system (tmpfs, mounted as root: CI and these machines
 * run as root) to make a journal's disk full or read-only for real.
 * @throws naming what is needed when mount is refused.
 */
export function mountTmpfs(options: { sizeKiB: number; readOnly?: boolean }): Tmpfs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcg-tmpfs-'));
  const mountOptions = `size=${options.sizeKiB}k,mode=0777${options.readOnly ? ',ro' : ''}`;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', mountOptions, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    fs.rmdirSync(dir);
    throw new Error(`mounting a tmpfs needs root (these tests run as root, as CI does): ${(error as Error).message}`);
  }
  const filler = path.join(dir, 'filler');
  return {
    dir,
    fill: () => {
      const fd = fs.openSync(filler, 'a');
      const chunk = Buffer.alloc(1024, 0x2e);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        // Down to the last bytes: a smaller write may still fit.
        try {
          for (;;) fs.writeSync(fd, Buffer.alloc(16, 0x2e));
        } catch {
          // Full.
        }
      } finally {
        fs.closeSync(fd);
      }
    },
    free: () => fs.rmSync(filler, { force: true }),
    unmount: () => {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      fs.rmdirSync(dir);
    },
  };
}
