import { callIdsSchema } from '../context/call-ids.js';
import { describeZodError } from '../zod-error.js';
import { ConfigError, InvalidWriteError, WriteBufferClosedError, WriteBufferFullError } from '../errors.js';
import type { CallJournal } from './call-journal.js';
import type { Journal } from './journal.js';
import type { CallHeader, JournalContents } from './journal-file.js';
import {
  writeOperationSchema,
  type BufferedWrite,
  type FinalCallStatus,
  type LeadFields,
  type WriteOperationInput,
} from './operations.js';

export interface WriteBufferOptions {
  callSid: string;
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
  private readonly buffered: BufferedWrite[] = [];
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
    this.call = Object.freeze({ ...ids.data, direction });
    this.journal = options.journal?.openCall(this.call);
  }

  /**
   * A closed buffer holding what a journal file says (recovery).
   * @internal
   */
  static restore(contents: JournalContents, file: CallJournal): WriteBuffer {
    const buffer = new WriteBuffer({ ...contents.header, maxOperations: Math.max(1, contents.writes.length) });
    buffer.journal = file;
    buffer.buffered.push(...contents.writes);
    buffer.isClosed = true;
    return buffer;
  }

  /**
   * Validates, numbers, journals and buffers one operation. Synchronous.
   * @throws {InvalidWriteError} the operation is invalid (the message names the field).
   * @throws {WriteBufferFullError} `maxOperations` are buffered.
   * @throws {WriteBufferClosedError} the buffer is closed (the call ended).
   * @throws {JournalError} the journal could not take it.
   * In every case nothing was buffered.
   */
  enqueue(input: WriteOperationInput): BufferedWrite {
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
    const write: BufferedWrite = Object.freeze({ seq, idempotencyKey: `${callSid}:${seq}`, op });
    this.journal?.append(write);
    this.buffered.push(write);
    return write;
  }

  /** Updates fields of the call's lead (null clears a field). */
  updateLead(fields: LeadFields): BufferedWrite {
    return this.enqueue({ kind: 'updateLead', fields });
  }

  /** Books an appointment for the call's lead; `endsAt` must be after `startsAt`. */
  createAppointment(appointment: { startsAt: Date | string; endsAt: Date | string; title: string }): BufferedWrite {
    return this.enqueue({ kind: 'createAppointment', ...appointment });
  }

  /** Merges `state` into the call session's state (top-level keys) and/or sets its summary. */
  updateSession(update: { state?: Record<string, unknown>; summary?: string | null }): BufferedWrite {
    return this.enqueue({ kind: 'updateSession', ...update } as WriteOperationInput);
  }

  /** The call's final status and duration, for its call log. */
  recordOutcome(outcome: { status: FinalCallStatus; durationSeconds: number; endedAt?: Date | string }): BufferedWrite {
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
  writes(): readonly BufferedWrite[] {
    return this.buffered.slice();
  }
}
