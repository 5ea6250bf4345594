import type { DeadLetter, WrittenDeadLetter } from './dead-letter.js';
import type { BufferedWrite, CallHeader } from './journal-format.js';

/** Whether the journal takes writes now (`/readyz`, admission of new calls). */
export interface JournalHealth {
  readonly writable: boolean;
  /** Why not, when not writable. */
  readonly reason?: string;
  /** Appends, file creations and syncs that failed since start (`live_call.buffer.journal_failures`). */
  readonly failures: number;
}

/**
 * When an appended write is durable:
 * - nothing (a synchronous journal, the local directory): it was durable
 *   when `append` returned;
 * - a promise (an asynchronous journal, JetStream): resolves `true` once the
 *   write AND every earlier write of the call are acknowledged, `false` if
 *   that can no longer happen (the write stays in memory and lands at call
 *   end unless the process dies first). Never rejects.
 */
export type Durability = Promise<boolean> | void;

/**
 * One call's journal, open for appends while the call is live: what the
 * WriteBuffer, the flush and the flusher use. The local directory journal's
 * {@link CallJournal} (a file) and the JetStream journal's call (a subject)
 * implement it.
 */
export interface CallJournalHandle {
  /** Where the call's writes are kept: a file path, or a subject. Named in dead letters and logs. */
  readonly path: string;
  /**
   * Journals one write. Returns at once; see {@link Durability}.
   * @throws {JournalError} the call's journal is closed or failed: the write is not journaled.
   */
  append(write: BufferedWrite): Durability;
  /** Takes no more appends; what was appended stays until the call is flushed or dead-lettered. Idempotent. */
  close(): void;
  /** The call's writes are in the database: removes them from the journal. Idempotent, never throws for a missing journal. */
  markFlushed(): void;
  /** The call's writes are elsewhere (a dead letter): removes them from the journal. Idempotent. */
  remove(): void;
}

/**
 * Where WriteBuffers journal their writes, and where the flusher keeps the
 * dead letters: the local directory {@link Journal} (the default) or the
 * replicated {@link JetStreamJournal}.
 */
export interface JournalBackend {
  /**
   * Opens a call's journal and journals its header.
   * @throws {JournalError} the journal is closed, unwritable, or holds too many open calls.
   */
  openCall(header: CallHeader): CallJournalHandle;
  /** Whether the journal takes writes now (`/readyz`, admission of new calls). */
  health(): JournalHealth;
  /**
   * A call's append failed (its write stayed in memory): counted; the journal is unwritable until it recovers.
   * @internal Called by WriteBuffer.
   */
  reportAppendFailure(callSid: string, error: unknown): void;
  /** Calls open for appends now (live calls of this process). */
  readonly openCalls: number;
  /**
   * Keeps a dead letter of a call where an operator sees it (a file of the
   * journal's `dead-letter/` directory, or a message of the journal's stream).
   * @returns where it was written.
   * @throws {JournalError} (or rejects with it) it could not be written: the call's journal must stay.
   */
  writeDeadLetter(name: string, letter: DeadLetter): WrittenDeadLetter | Promise<WrittenDeadLetter>;
  /** Dead letters kept now (including earlier processes'). */
  countDeadLetters(): number;
  /** Closes every call's journal and the journal itself (the JetStream journal: resolves once its connection is drained). Runs once. */
  close(): void | Promise<void>;
}
