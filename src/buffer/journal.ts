import fs from 'node:fs';
import path from 'node:path';
import type { Counter } from '@opentelemetry/api';
import type { Logger } from '../logger.js';
import { DEFAULTS, FSYNC_POLICIES, type FsyncPolicy } from '../defaults.js';
import { ConfigError, JournalError } from '../errors.js';
import { CallJournal, writeFully, type JournalHost } from './call-journal.js';
import { countDeadLetters, writeDeadLetter, type DeadLetter, type WrittenDeadLetter } from './dead-letter.js';
import type { JournalBackend, JournalHealth } from './journal-backend.js';
import { freeJournalPath, headerLine, type CallHeader } from './journal-format.js';
import { currentOwner, type Owner } from './owner.js';
import { createJournalInstruments } from './journal-metrics.js';

export interface JournalOptions {
  /**
   * The directory (`JOURNAL_DIR`, default `.data/journal`), created if
   * missing. Local to one host: a file's owner is recognised by its pid.
   */
  dir: string;
  /**
   * When written data is forced to disk (`JOURNAL_FSYNC`). In every policy
   * each write is handed to the kernel with write(2) before enqueue returns,
   * so a crash of the *process* (SIGKILL, OOM, uncaught error) loses no
   * acknowledged write. The policy only matters when the *machine* stops
   * (power loss, kernel panic):
   * - `write`: fdatasync(2) before enqueue returns; nothing acknowledged is
   *   lost; costs a disk flush (about 0.1-10 ms) on the live path per write.
   * - `interval` (default): a background fdatasync every `fsyncIntervalMs`
   *   (and when a call's file is closed); at most that much is lost.
   * - `none`: the kernel writes back when it likes (about 30 s on Linux).
   */
  fsync?: FsyncPolicy;
  /** With fsync `interval`: how often written files are synced. Default 1000 ms. */
  fsyncIntervalMs?: number;
  /** Most call files open at once (one per live call). Default 10 000. */
  maxOpenCalls?: number;
  /** Where background fsync failures are logged. Default: not logged (counted in `syncErrors`). */
  logger?: Logger;
}

export const DEAD_LETTER_DIR = 'dead-letter';
/** How often a journal that failed is probed again (by `health()`). */
const REPROBE_INTERVAL_MS = 1000;
/** What a probe writes: a call's header and a few writes. */
const PROBE_BYTES = 4096;

export type { JournalHealth } from './journal-backend.js';

/**
 * The write journal: one append-only file per call, named after the call
 * and the process that owns it (see journalFileName in journal-format.ts). A WriteBuffer
 * journals each operation here before its enqueue returns; recovery
 * replays the files of processes that are gone.
 */
export class Journal implements JournalBackend {
  readonly dir: string;
  readonly deadLetterDir: string;
  readonly fsync: FsyncPolicy;
  readonly owner: Owner;
  private readonly maxOpenCalls: number;
  private readonly logger: Logger | undefined;
  private readonly files = new Set<CallJournal>();
  private readonly host: JournalHost;
  private readonly timer: NodeJS.Timeout | undefined;
  private syncErrorCount = 0;
  private failureCount = 0;
  private failure: { reason: string; probedAt: number } | undefined;
  private readonly failuresCounter: Counter;
  private directoryDirty = false;
  private closed = false;

  constructor(options: JournalOptions) {
    const fsync = options.fsync ?? DEFAULTS.journalFsync;
    if (!FSYNC_POLICIES.includes(fsync)) {
      throw new ConfigError(`Journal fsync must be one of ${FSYNC_POLICIES.join(', ')} (received ${JSON.stringify(fsync)})`);
    }
    const fsyncIntervalMs = positiveInteger('fsyncIntervalMs', options.fsyncIntervalMs ?? DEFAULTS.journalFsyncIntervalMs);
    this.maxOpenCalls = positiveInteger('maxOpenCalls', options.maxOpenCalls ?? DEFAULTS.journalMaxOpenCalls);
    if (typeof options.dir !== 'string' || options.dir === '') {
      throw new ConfigError(`Journal dir must be a directory path (received ${JSON.stringify(options.dir)})`);
    }
    this.dir = path.resolve(options.dir);
    this.deadLetterDir = path.join(this.dir, DEAD_LETTER_DIR);
    this.fsync = fsync;
    this.owner = currentOwner();
    this.logger = options.logger;
    try {
      fs.mkdirSync(this.deadLetterDir, { recursive: true });
    } catch (error) {
      throw new JournalError(`cannot create the journal directory ${this.dir}: ${errorCode(error)}`, { cause: error });
    }
    const instruments = createJournalInstruments('local');
    this.failuresCounter = instruments.failures;
    this.host = {
      fsync,
      enqueued: instruments.enqueued,
      release: (file) => {
        this.files.delete(file);
      },
      reportSyncError: (filePath, error) => {
        this.syncErrorCount++;
        this.fail(`fsync of ${path.basename(filePath)} failed: ${errorCode(error)}`);
        this.logger?.error({ err: error, file: filePath }, 'journal fsync failed');
      },
    };
    if (fsync === 'interval') {
      this.timer = setInterval(() => this.syncAll(), fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Creates the journal file of a call and writes its header.
   * @throws {JournalError} the journal is closed, a file for this call is
   *   already open in this process, too many files are open, or the
   *   file system refused.
   */
  openCall(header: CallHeader): CallJournal {
    if (this.closed) throw new JournalError('the journal is closed');
    if (this.files.size >= this.maxOpenCalls) {
      throw new JournalError(`the journal has ${this.files.size} call files open (maxOpenCalls); call ${header.callSid} is not journaled`);
    }
    const filePath = freeJournalPath(this.dir, header.callSid, this.owner);
    if (!filePath) throw new JournalError(`journal of call ${header.callSid}: 1000 files of this call are open`);
    let fd: number;
    try {
      fd = fs.openSync(filePath, 'wx');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'a journal for this call already exists' : 'open failed';
      if (reason === 'open failed') this.fail(`creating a call file failed: ${errorCode(error)}`);
      throw new JournalError(`journal of call ${header.callSid}: ${reason} (${filePath})`, { cause: error });
    }
    const file = new CallJournal(this.host, filePath, fd);
    this.files.add(file);
    try {
      writeFully(fd, headerLine(header));
      if (this.fsync === 'write') {
        fs.fdatasyncSync(fd);
        this.syncDirectory();
      } else {
        this.directoryDirty = true;
      }
    } catch (error) {
      this.fail(`writing a call header failed: ${errorCode(error)}`);
      try {
        file.remove();
      } catch {
        // The file stays, closed: recovery finds an empty or torn-header journal and drops it.
      }
      throw new JournalError(`journal of call ${header.callSid}: writing its header failed`, { cause: error });
    }
    return file;
  }

  /**
   * Checks that the directory takes a file, its data and an fdatasync (a
   * small file, written, synced and removed). Run at start: a journal that
   * cannot keep writes must not accept calls.
   * @throws {JournalError} naming the directory and the error (EROFS, ENOSPC, EACCES...).
   */
  probe(): void {
    const file = path.join(this.dir, `.probe-${process.pid}-${Date.now()}`);
    try {
      const fd = fs.openSync(file, 'w');
      try {
        fs.writeSync(fd, Buffer.alloc(PROBE_BYTES, 0x20));
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      throw new JournalError(`JOURNAL_DIR ${this.dir} cannot keep writes: ${errorCode(error)}`, { cause: error });
    } finally {
      try {
        fs.rmSync(file, { force: true });
      } catch {
        // Nothing was created.
      }
    }
  }

  /**
   * Whether the journal takes writes now. After a failure it is unwritable
   * until a probe (run here, at most once a second) passes again.
   */
  health(): JournalHealth {
    if (this.failure && Date.now() - this.failure.probedAt >= REPROBE_INTERVAL_MS) {
      try {
        this.probe();
        this.logger?.info({ dir: this.dir }, 'the journal takes writes again');
        this.failure = undefined;
      } catch (error) {
        this.failure = { reason: (error as Error).message, probedAt: Date.now() };
      }
    }
    return this.failure
      ? { writable: false, reason: this.failure.reason, failures: this.failureCount }
      : { writable: true, failures: this.failureCount };
  }

  /**
   * A call's append failed (its write stayed in memory): counted, and the
   * journal is unwritable until a probe passes. Logged by the caller, once per call.
   * @internal Called by WriteBuffer.
   */
  reportAppendFailure(callSid: string, error: unknown): void {
    this.fail(`an append of call ${callSid} failed: ${errorCode(error)}`);
  }

  /**
   * A file recovery has claimed: its writes are read elsewhere; it can be marked flushed or removed.
   * @internal Called by recovery.
   */
  adopt(filePath: string): CallJournal {
    return new CallJournal(this.host, filePath, undefined);
  }

  /** Writes `<dead-letter dir>/<name>.json` once (see writeDeadLetter: a letter of that name already there is kept). */
  writeDeadLetter(name: string, letter: DeadLetter): WrittenDeadLetter {
    return writeDeadLetter(this.deadLetterDir, name, letter);
  }

  /** Dead-letter files in the journal's `dead-letter/` directory. */
  countDeadLetters(): number {
    return countDeadLetters(this.deadLetterDir);
  }

  /** Call files open now (live calls of this process). */
  get openCalls(): number {
    return this.files.size;
  }

  /** Background fsyncs that failed since start. */
  get syncErrors(): number {
    return this.syncErrorCount;
  }

  /** Syncs (unless fsync is `none`) and closes every open file; stops the timer. Runs once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const file of [...this.files]) file.syncAndClose();
  }

  private fail(reason: string): void {
    this.failureCount++;
    this.failuresCounter.add(1);
    this.failure = { reason, probedAt: Date.now() };
  }

  private syncAll(): void {
    for (const file of this.files) file.syncInBackground();
    if (this.directoryDirty) {
      this.directoryDirty = false;
      fs.open(this.dir, 'r', (openError, fd) => {
        if (openError) return this.host.reportSyncError(this.dir, openError);
        fs.fsync(fd, (error) => {
          if (error) this.host.reportSyncError(this.dir, error);
          fs.close(fd, () => {});
        });
      });
    }
  }

  /** fsync of the directory makes new file names durable. */
  private syncDirectory(): void {
    const fd = fs.openSync(this.dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

function errorCode(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  return (cause as NodeJS.ErrnoException).code ?? (cause as Error).message ?? String(cause);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`Journal ${name} must be a positive integer (received ${JSON.stringify(value)})`);
  }
  return value;
}
