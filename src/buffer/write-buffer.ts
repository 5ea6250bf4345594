import { z } from 'zod';
import { callSidSchema, sidSchema } from '../context/call-ids.js';
import { ConfigError, InvalidWriteError, JournalError, TenantMismatchError, WriteBufferClosedError, WriteBufferFullError } from '../errors.js';
import { DEFAULTS } from '../defaults.js';
import { describeZodError } from '../zod-error.js';
import type { CallJournal } from './call-journal.js';
import type { Journal } from './journal.js';
import { idempotencyKey, type BufferedWrite, type CallHeader, type JournalContents, type TenantId } from './journal-format.js';
import type { JsonValue, Row, WriteInput, WriteOperations } from './write-operation.js';

export interface WriteBufferOptions<TOps extends WriteOperations = WriteOperations> {
  /** The operations the app declared (checked by {@link validateWriteOperations} where the layer is built). */
  operations: TOps;
  callSid: string;
  /**
   * The stream the writes come from: idempotency keys are
   * `<streamSid>:<seq>`, so two streams of one call (a second `/twiml` for
   * it) never collide. Default none: keys are `<callSid>:<seq>`.
   */
  streamSid?: string | null;
  /** The call's tenant: every row is bound to it. A string or a number, as the app's tenant schema gives it. */
  tenantId: TenantId;
  /** Values fixed at call start that rows may use (journaled with the call). Default none. */
  bindings?: Readonly<Record<string, JsonValue>>;
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

const tenantIdSchema = z.union([z.string().min(1).max(200), z.number().finite()]);
const bindingsSchema = z.record(z.string(), z.json());

/**
 * The writes of one live call, held until the call ends and the flush
 * writes them in one transaction. Enqueueing is synchronous and never
 * touches the database: it validates the input with the operation's schema
 * (a bad one throws {@link InvalidWriteError} and changes nothing), builds
 * the row with the tenant bound, numbers it, and appends it to the journal.
 */
export class WriteBuffer<TOps extends WriteOperations = WriteOperations> {
  readonly call: CallHeader;
  readonly operations: TOps;
  readonly maxOperations: number;
  private journal: CallJournal | undefined;
  private readonly journalRoot: Journal | undefined;
  private journalFailure: JournalError | undefined;
  private readonly onJournalFailure: ((error: JournalError) => void) | undefined;
  private readonly buffered: EnqueuedWrite[] = [];
  private isClosed = false;

  constructor(options: WriteBufferOptions<TOps>) {
    const fail = (what: string) => new ConfigError(`WriteBuffer options: ${what}`);
    const callSid = callSidSchema.safeParse(options.callSid);
    if (!callSid.success) throw fail(`callSid ${describeZodError(callSid.error)} (received ${JSON.stringify(options.callSid)})`);
    const streamSid = options.streamSid ?? null;
    if (streamSid !== null && !sidSchema.safeParse(streamSid).success) {
      throw fail(`streamSid must be 1-64 printable ASCII characters (received ${JSON.stringify(streamSid)})`);
    }
    if (!tenantIdSchema.safeParse(options.tenantId).success) throw fail(`tenantId must be a string or a number (received ${JSON.stringify(options.tenantId)})`);
    const bindings = bindingsSchema.safeParse(options.bindings ?? {});
    if (!bindings.success) throw fail(`bindings must be JSON values: ${describeZodError(bindings.error)}`);
    if (typeof options.operations !== 'object' || options.operations === null) throw fail('operations are required');
    this.maxOperations = options.maxOperations ?? DEFAULTS.writeBufferMaxOperations;
    if (!Number.isInteger(this.maxOperations) || this.maxOperations <= 0) {
      throw fail(`maxOperations must be a positive integer (received ${JSON.stringify(options.maxOperations)})`);
    }
    this.operations = options.operations;
    this.call = Object.freeze({ callSid: callSid.data, streamSid, tenantId: options.tenantId, bindings: Object.freeze({ ...bindings.data }) });
    this.onJournalFailure = options.onJournalFailure;
    this.journalRoot = options.journal;
    this.journal = options.journal?.openCall(this.call);
  }

  /**
   * A closed buffer holding what a journal file (or, without `file`, a dead letter) says (recovery).
   * @internal
   */
  static restore<TOps extends WriteOperations>(contents: JournalContents, file: CallJournal | undefined, operations: TOps): WriteBuffer<TOps> {
    const buffer = new WriteBuffer({ ...contents.header, operations, maxOperations: Math.max(1, contents.writes.length) });
    buffer.journal = file;
    const restored: EnqueuedWrite[] = contents.writes.map((write) => Object.freeze({ ...write, journaled: true }));
    buffer.buffered.push(...restored.sort((a, b) => a.seq - b.seq));
    buffer.isClosed = true;
    return buffer;
  }

  /**
   * Validates the input with the operation's schema, builds its row (the
   * tenant bound), numbers, journals and buffers it. Synchronous.
   * @throws {InvalidWriteError} no such operation, or the input or its row is invalid (the message names the field).
   * @throws {TenantMismatchError} the row names another tenant in its tenant column (the layer sets the column itself: leave it out).
   * @throws {WriteBufferFullError} `maxOperations` are buffered.
   * @throws {WriteBufferClosedError} the buffer is closed (the call ended).
   * In every case nothing was buffered. A journal that cannot take the
   * write does not fail it: it is buffered in memory (`journaled: false`)
   * and `onJournalFailure` is told, once.
   */
  enqueue<K extends keyof TOps & string>(name: K, input: WriteInput<TOps[K]>): EnqueuedWrite {
    const { callSid } = this.call;
    if (this.isClosed) throw new WriteBufferClosedError(`the write buffer of call ${callSid} is closed`);
    if (this.buffered.length >= this.maxOperations) {
      throw new WriteBufferFullError(`the write buffer of call ${callSid} holds ${this.maxOperations} operations (maxOperations)`);
    }
    const row = this.rowOf(name, input);
    const seq = this.buffered.length + 1;
    const write: BufferedWrite = { seq, idempotencyKey: idempotencyKey(this.call.streamSid ?? callSid, seq), op: name, row };
    const enqueued: EnqueuedWrite = Object.freeze({ ...write, journaled: this.journalWrite(write) });
    this.buffered.push(enqueued);
    return enqueued;
  }

  /** The row an operation writes for this input: validated, JSON only, the tenant bound. */
  private rowOf(name: string, input: unknown): Row {
    const { callSid } = this.call;
    const op = Object.hasOwn(this.operations, name) ? this.operations[name] : undefined;
    if (!op) throw new InvalidWriteError(`no write operation ${JSON.stringify(name)} is declared (call ${callSid})`);
    const parsed = op.schema.safeParse(input);
    if (!parsed.success) {
      throw new InvalidWriteError(`invalid ${name} for call ${callSid}: ${describeZodError(parsed.error)}`, { cause: parsed.error });
    }
    let built: Record<string, JsonValue | undefined>;
    try {
      built = op.row(parsed.data, this.call);
    } catch (error) {
      throw new InvalidWriteError(`invalid ${name} for call ${callSid}: ${(error as Error).message}`, { cause: error });
    }
    const row: Record<string, JsonValue> = {};
    for (const [column, value] of Object.entries(built)) if (value !== undefined) row[column] = value;
    const json = bindingsSchema.safeParse(row);
    if (!json.success) throw new InvalidWriteError(`invalid ${name} for call ${callSid}: its row is not JSON: ${describeZodError(json.error)}`);
    const given = row[op.tenantColumn];
    if (given !== undefined && given !== null && String(given) !== String(this.call.tenantId)) {
      throw new TenantMismatchError(`${name} for call ${callSid}: ${op.tenantColumn} ${JSON.stringify(given)} is not the call's tenant`);
    }
    row[op.tenantColumn] = this.call.tenantId;
    return Object.freeze(row);
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
