import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BALLAST = 'chaos-ballast.fill';

/**
 * A journal directory on a tiny tmpfs that can be filled to the last page
 * (a ballast file written until ENOSPC) and emptied again. Mounting needs
 * root (or CAP_SYS_ADMIN); where it fails, {@link mount} says why and the
 * fault is skipped.
 */
export class JournalFill {
  private mounted = false;
  /** Bytes the ballast holds now (0: not filled). */
  private ballastBytes = 0;

  constructor(
    readonly dir: string,
    /** tmpfs size, e.g. `1m`, `256k`. */
    private readonly size: string,
  ) {}

  /** Mounts the tmpfs on `dir`. Resolves with why it could not, or undefined when mounted. */
  async mount(): Promise<string | undefined> {
    fs.mkdirSync(this.dir, { recursive: true });
    if (process.platform !== 'linux') return `tmpfs needs Linux (this is ${process.platform})`;
    try {
      await run('mount', ['-t', 'tmpfs', '-o', `size=${this.size},mode=0755`, 'tmpfs', this.dir]);
      this.mounted = true;
      return undefined;
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      return `mount -t tmpfs failed: ${(stderr || message).trim().split('\n')[0]}`;
    }
  }

  get isMounted(): boolean {
    return this.mounted;
  }

  get isFull(): boolean {
    return this.ballastBytes > 0;
  }

  /** Writes the ballast until the file system refuses (ENOSPC): no free page is left. */
  fill(): void {
    if (!this.mounted) throw new Error('JournalFill.fill: the tmpfs is not mounted');
    const fd = fs.openSync(path.join(this.dir, BALLAST), 'a');
    const chunk = Buffer.alloc(4096, 0x2e);
    try {
      for (;;) this.ballastBytes += fs.writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Removes the ballast: the journal has room again. */
  empty(): void {
    fs.rmSync(path.join(this.dir, BALLAST), { force: true });
    this.ballastBytes = 0;
  }

  /** Unmounts (lazily if a file is still open). Runs once; never throws. */
  async unmount(): Promise<void> {
    if (!this.mounted) return;
    this.mounted = false;
    await run('umount', [this.dir]).catch(() => run('umount', ['-l', this.dir]).catch(() => undefined));
  }

  /** {@link unmount}, synchronously (signal handlers). */
  unmountNow(): void {
    if (!this.mounted) return;
    this.mounted = false;
    try {
      execFileSync('umount', ['-l', this.dir], { stdio: 'ignore' });
    } catch {
      // nothing more to do in a signal handler
    }
  }
}
