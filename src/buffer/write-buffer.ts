import { callIdsSchema, sidSchema } from '../context/call-ids.js';
import { describeZodError } from '../zod-error.js';
import { ConfigError, InvalidWriteError, JournalError, WriteBufferClosedError, WriteBufferFullError } from '../errors.js';
import type { CallJournal } from './call-journal.js';
import type { Journal } from './journal.js';
import { idempotencyKey, type CallHeader, type JournalContents } from './journal-file.js';
import {
  writeOperationSchema,
  type BufferedWrite,
  type FinalCallStatus,
  type LeadFields,
  type WriteOperationInput,
} from './operations.js';

export interface WriteBufferOptions {
  callSid: string;
  /**
   * The stream the writes come from: idempotency keys are
   * `<streamSid>:<seq>`, so two streams of one call (a second `/twiml` for
   * it) never collide. Default none: keys are `<callSid>:<seq>`.
   */
  streamSid?: string | null;
  /** The call's business: every write is bound to it. */
  businessId: number | string;
  /** The call's lead (from its CallContext); lead updates need one. */
  leadId?: number | string | null;
  /** For the call log row if the call is not in call_logs yet. Default `inbound`. */
  direction?: 'inbound' | 'outbound';
  /** Most operations the call may buffer; past it enqueue throws {@link WriteBufferFullError}. Default 1000. */
  maxOperations?: number;
  /**
   * Where each operation is journaled before enqueue returns. Default none:
   * the writes live in memory only and a crash loses them.
   */
  journal?: Journal;
  /**
   * Called once, the first time the journal cannot take a write (disk full,
   * I/O error): from then on the call's writes are kept in memory only and
   * land at call end, unless the process dies first. Default none.
   */
  onJournalFailure?: (error: JournalError) => void;
}

/** A write as enqueue returns it: buffered, and whether it is in the journal too. */
export interface EnqueuedWrite extends BufferedWrite {
  /**
   * True when the write is in the journal (a crash of the process cannot
   * lose it); false when the journal failed and it is in memory only (it
   * lands at call end unless the process dies first), or there is no journal.
   */
  readonly journaled: boolean;
}

const DEFAULT_MAX_OPERATIONS = 1000;

/**
 * The writes of one live call, held until the call ends and
 * {@link flush} writes them in one transaction. Enqueueing is synchronous
 * and never touches the database: it validates the operation (a bad one
 * throws {@link InvalidWriteError} and changes nothing), numbers it, and
 * appends it to the journal.
 */
export class WriteBuffer {
  readonly call: CallHeader;
  readonly maxOperations: number;
  private journal: CallJournal | undefined;
  private readonly journalRoot: Journal | undefined;
  private journalFailure: JournalError | undefined;
  private readonly onJournalFailure: ((error: JournalError) => void) | undefined;
  private readonly buffered: EnqueuedWrite[] = [];
  private isClosed = false;

  constructor(options: WriteBufferOptions) {
    const ids = callIdsSchema.safeParse(options);
    if (!ids.success) throw new ConfigError(`WriteBuffer options: ${describeZodError(ids.error)}`, { cause: ids.error });
    const direction = options.direction ?? 'inbound';
    if (direction !== 'inbound' && direction !== 'outbound') {
      throw new ConfigError(`WriteBuffer options: direction must be inbound or outbound (received ${JSON.stringify(direction)})`);
    }
    this.maxOperations = options.maxOperations ?? DEFAULT_MAX_OPERATIONS;
    if (!Number.isInteger(this.maxOperations) || this.maxOperations <= 0) {
      throw new ConfigError(
        `WriteBuffer options: maxOperations must be a positive integer (received ${JSON.stringify(options.maxOperations)})`,
      );
    }
    const streamSid = options.streamSid ?? null;
    if (streamSid !== null && !sidSchema.safeParse(streamSid).success) {
      throw new ConfigError(`WriteBuffer options: streamSid must be 1-64 printable ASCII characters (received ${JSON.stringify(streamSid)})`);
    }
    this.call = Object.freeze({ ...ids.data, streamSid, direction });
    this.onJournalFailure = options.onJournalFailure;
    this.journalRoot = options.journal;
    this.journal = options.journal?.openCall(this.call);
  }

  /**
   * A closed buffer holding what a journal file says (recovery).
   * @internal
   */
  static restore(contents: JournalContents, file: CallJournal): WriteBuffer {
    const buffer = new WriteBuffer({ ...contents.header, maxOperations: Math.max(1, contents.writes.length) });
    buffer.journal = file;
    buffer.buffered.push(...contents.writes.map((write) => Object.freeze({ ...write, journaled: true })));
    buffer.isClosed = true;
    return buffer;
  }

  /**
   * Validates, numbers, journals and buffers one operation. Synchronous.
   * @throws {InvalidWriteError} the operation is invalid (the message names the field).
   * @throws {WriteBufferFullError} `maxOperations` are buffered.
   * @throws {WriteBufferClosedError} the buffer is closed (the call ended).
   * In every case nothing was buffered. A journal that cannot take the
   * write does not fail it: it is buffered in memory (`journaled: false`)
   * and `onJournalFailure` is told, once.
   */
  enqueue(input: WriteOperationInput): EnqueuedWrite {
    const { callSid } = this.call;
    if (this.isClosed) throw new WriteBufferClosedError(`the write buffer of call ${callSid} is closed`);
    if (this.buffered.length >= this.maxOperations) {
      throw new WriteBufferFullError(`the write buffer of call ${callSid} holds ${this.maxOperations} operations (maxOperations)`);
    }
    const parsed = writeOperationSchema.safeParse(input);
    if (!parsed.success) {
      const kind = typeof input === 'object' && input !== null && typeof input.kind === 'string' ? input.kind : 'operation';
      throw new InvalidWriteError(`invalid ${kind} for call ${callSid}: ${describeZodError(parsed.error)}`, {
        cause: parsed.error,
      });
    }
    let op = parsed.data;
    if (op.kind === 'updateLead' && this.call.leadId === null) {
      throw new InvalidWriteError(`invalid updateLead for call ${callSid}: the call has no lead (leadId)`);
    }
    if (op.kind === 'callOutcome' && op.endedAt === undefined) op = { ...op, endedAt: new Date().toISOString() };
    const seq = this.buffered.length + 1;
    const write: BufferedWrite = Object.freeze({ seq, idempotencyKey: idempotencyKey(this.call.streamSid ?? callSid, seq), op });
    const enqueued: EnqueuedWrite = Object.freeze({ ...write, journaled: this.journalWrite(write) });
    this.buffered.push(enqueued);
    return enqueued;
  }

  /** Appends to the journal unless it failed before (after a failed append the file may end torn: no more appends). */
  private journalWrite(write: BufferedWrite): boolean {
    if (!this.journal || this.journalFailure) return false;
    try {
      this.journal.append(write);
      return true;
    } catch (error) {
      const failure = error instanceof JournalError ? error : new JournalError(String(error), { cause: error });
      this.journalFailure = failure;
      this.journalRoot?.reportAppendFailure(this.call.callSid, failure);
      try {
        this.onJournalFailure?.(failure);
      } catch {
        // The listener's own failure must not fail the write.
      }
      return false;
    }
  }

  /**
   * Whether every buffered write is in the journal. False after a journal
   * failure (or without a journal): a crash before the flush loses the rest.
   */
  get durable(): boolean {
    return this.journal !== undefined && this.journalFailure === undefined;
  }

  /**
   * Writes the whole buffer to a fresh journal file and drops the partial
   * one (after a journal failure, when the writes cannot land now: drain
   * with the database down). Returns whether every write is now journaled.
   * @internal Called by Flusher when it defers a flush.
   */
  persist(): boolean {
    if (this.durable) return true;
    if (!this.journalRoot) return false;
    let fresh: CallJournal | undefined;
    try {
      fresh = this.journalRoot.openCall(this.call);
      for (const write of this.buffered) fresh.append(write);
      fresh.close();
    } catch {
      try {
        fresh?.remove();
      } catch {
        // Left for recovery: a torn or partial file is read up to its last whole line.
      }
      return false;
    }
    const partial = this.journal;
    this.journal = fresh;
    this.journalFailure = undefined;
    try {
      partial?.remove();
    } catch {
      // Both files replay the same keys: a leftover partial one changes nothing.
    }
    return true;
  }

  /** Updates fields of the call's lead (null clears a field). */
  updateLead(fields: LeadFields): EnqueuedWrite {
    return this.enqueue({ kind: 'updateLead', fields });
  }

  /** Books an appointment for the call's lead; `endsAt` must be after `startsAt`. */
  createAppointment(appointment: { startsAt: Date | string; endsAt: Date | string; title: string }): EnqueuedWrite {
    return this.enqueue({ kind: 'createAppointment', ...appointment });
  }

  /** Merges `state` into the call session's state (top-level keys) and/or sets its summary. */
  updateSession(update: { state?: Record<string, unknown>; summary?: string | null }): EnqueuedWrite {
    return this.enqueue({ kind: 'updateSession', ...update } as WriteOperationInput);
  }

  /** The call's final status and duration, for its call log. */
  recordOutcome(outcome: { status: FinalCallStatus; durationSeconds: number; endedAt?: Date | string }): EnqueuedWrite {
    return this.enqueue({ kind: 'callOutcome', ...outcome });
  }

  /** Takes no more operations; closes the journal file (it stays until flushed). Idempotent. */
  close(): void {
    this.isClosed = true;
    this.journal?.close();
  }

  /** @internal The call's journal file, if journaled. */
  get journalFile(): CallJournal | undefined {
    return this.journal;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** How many operations are buffered. */
  get size(): number {
    return this.buffered.length;
  }

  /** The buffered operations, in order. */
  writes(): readonly EnqueuedWrite[] {
    return this.buffered.slice();
  }
}
