import fs from 'node:fs';
import type { FsyncPolicy } from '../defaults.js';
import { JournalError } from '../errors.js';
import { flushedLine, writeLine } from './journal-format.js';
import type { BufferedWrite } from './journal-format.js';

/** Writes all of `text` with write(2), however many calls a short write takes. */
export function writeFully(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let offset = 0;
  while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset);
}

/** What a call's journal needs from the journal it belongs to. */
export interface JournalHost {
  readonly fsync: FsyncPolicy;
  /** Called once when the file stops taking appends (its fd may close a little later, after a last fdatasync). */
  release(file: CallJournal): void;
  /** Reports an fsync that failed in the background (the write itself had succeeded). */
  reportSyncError(filePath: string, error: unknown): void;
  /** An append took `ms` (`live_call.journal.enqueue.duration`). */
  enqueued(ms: number): void;
}

/**
 * One call's journal file, open for appends while the call is live.
 * Obtained from {@link Journal.openCall} (or `adopt` in recovery).
 */
export class CallJournal {
  readonly path: string;
  private readonly host: JournalHost;
  private fd: number | undefined;
  private dirty = false;
  private syncing = false;
  private closeRequested = false;
  private finished = false;

  /** @internal Use Journal.openCall. */
  constructor(host: JournalHost, filePath: string, fd: number | undefined) {
    this.host = host;
    this.path = filePath;
    this.fd = fd;
  }

  /**
   * Appends one write with write(2) before returning; with fsync `write`
   * also fdatasync(2).
   * @throws {JournalError} the file is closed or the write failed.
   */
  append(write: BufferedWrite): void {
    if (this.fd === undefined || this.closeRequested) {
      throw new JournalError(`journal ${this.path} is closed; write ${write.idempotencyKey} was not journaled`);
    }
    const startedAt = performance.now();
    try {
      writeFully(this.fd, writeLine(write));
      if (this.host.fsync === 'write') fs.fdatasyncSync(this.fd);
      else this.dirty = true;
    } catch (error) {
      throw new JournalError(`journaling write ${write.idempotencyKey} to ${this.path} failed`, { cause: error });
    }
    this.host.enqueued(performance.now() - startedAt);
  }

  /** @internal Called by the journal's interval timer: one background fdatasync if there is something to sync. */
  syncInBackground(): void {
    if (!this.dirty || this.syncing || this.fd === undefined) return;
    const fd = this.fd;
    this.dirty = false;
    this.syncing = true;
    fs.fdatasync(fd, (error) => {
      this.syncing = false;
      if (error) this.host.reportSyncError(this.path, error);
      if (this.closeRequested) this.closeNow();
    });
  }

  /** @internal At process shutdown: sync now (unless fsync is `none`) and close. */
  syncAndClose(): void {
    if (this.fd !== undefined && this.dirty && this.host.fsync !== 'none') {
      try {
        fs.fdatasyncSync(this.fd);
        this.dirty = false;
      } catch (error) {
        this.host.reportSyncError(this.path, error);
      }
    }
    this.close();
  }

  /**
   * Takes no more appends and closes the file (after a last background
   * fdatasync with fsync `interval`). The file stays until the call is
   * flushed or dead-lettered. Idempotent.
   */
  close(): void {
    if (this.closeRequested) return;
    this.closeRequested = true;
    this.host.release(this);
    if (this.dirty && this.host.fsync === 'interval') this.syncInBackground();
    if (!this.syncing) this.closeNow();
  }

  /**
   * The call's writes are in the database: marks the file flushed, then
   * removes it. On a full disk the mark may fail: the file is removed all
   * the same (a replay of it would change nothing anyway). Idempotent.
   */
  markFlushed(): void {
    if (this.finished) return;
    this.close();
    try {
      fs.appendFileSync(this.path, flushedLine());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.finish();
    }
    this.remove();
  }

  /** The call's writes are elsewhere (a dead-letter file): removes the journal file. Idempotent. */
  remove(): void {
    this.close();
    try {
      fs.rmSync(this.path, { force: true });
    } catch (error) {
      throw new JournalError(`removing ${this.path} failed`, { cause: error });
    }
    this.finish();
  }

  private finish(): void {
    this.finished = true;
  }

  private closeNow(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fs.closeSync(fd);
    } catch (error) {
      this.host.reportSyncError(this.path, error);
    }
  }
}
