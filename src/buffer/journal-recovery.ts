import type { Logger } from '../logger.js';
import type { FlushOutcome, RecoveryReport } from './flush-outcome.js';
import type { WrittenDeadLetter } from './dead-letter.js';
import type { JournalBackend } from './journal-backend.js';
import type { WriteBuffer } from './write-buffer.js';
import type { WriteOperations } from './write-operation.js';

/** What a journal's recovery pass needs from the flusher that runs it (the local journal's is recovery.ts's RecoveryHost). */
export interface JournalRecoveryHost {
  readonly operations: WriteOperations;
  /** Calls replayed at once. */
  readonly concurrency: number;
  readonly logger: Logger;
  /** A stopped flusher claims no more calls. */
  isStopped(): boolean;
  /** Lands a recovered buffer (with retries), as Flusher.flush does. */
  replay(buffer: WriteBuffer): Promise<FlushOutcome>;
  /** An unreadable journal was dead-lettered: count and log it. */
  deadLettered(callSid: string, reason: string, letter: WrittenDeadLetter): void;
}

/** A journal that finds and claims, itself, the calls of processes that are gone (the JetStream journal). */
export interface RecoverableJournal extends JournalBackend {
  /** One recovery pass: claims the calls of gone processes (each by exactly one recoverer) and replays them. */
  recover(host: JournalRecoveryHost): Promise<RecoveryReport>;
}

export function isRecoverableJournal(journal: JournalBackend): journal is RecoverableJournal {
  return typeof (journal as Partial<RecoverableJournal>).recover === 'function';
}
