import type { FlushResult } from './flush-transaction.js';

/** What Flusher.flush (and a recovered call's replay) came to. */
export type FlushOutcome =
  /** Landed; with `deadLetter`, the writes in `result.rejected` did not, and were dead-lettered in that file. */
  | { readonly status: 'flushed'; readonly attempts: number; readonly result: FlushResult; readonly deadLetter?: string }
  | { readonly status: 'dead-lettered'; readonly attempts: number; readonly reason: string; readonly file: string }
  /** The flusher stopped before the writes landed: they stay in the journal for the next recovery. */
  | { readonly status: 'deferred'; readonly attempts: number };

export interface RecoveryReport {
  /** Orphan journal files this pass claimed. */
  readonly claimed: number;
  readonly flushed: number;
  readonly deadLettered: number;
  readonly deferred: number;
  /** Claimed files that held nothing to write (already flushed, or no writes). */
  readonly empty: number;
}

