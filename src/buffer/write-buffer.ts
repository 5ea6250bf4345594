import { z } from 'zod';
import { callSidSchema, sidSchema } from '../context/call-ids.js';
import { ConfigError, InvalidWriteError, JournalError, TenantMismatchError, WriteBufferClosedError, WriteBufferFullError } from '../errors.js';
import { DEFAULTS } from '../defaults.js';
import { describeZodError } from '../zod-error.js';
import type { CallJournalHandle, JournalBackend } from './journal-backend.js';
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
   * Where each operation is journaled: the local directory {@link Journal}
   * (before enqueue returns) or the {@link JetStreamJournal} (published
   * before enqueue returns, acknowledged later: see {@link EnqueuedWrite.durable}).
   * Default none: the writes live in memory only and a crash loses them.
   */
  journal?: JournalBackend;
  /**
   * Called once, the first time the journal cannot take a write (disk full,
   * I/O error): from then on the call's writes are kept in memory only and
   * land at call end, unless the process dies first. Default none.
   */
  onJournalFailure?: (error: JournalError) => void;
}

/** A buffered write, and whether the journal took it. */
export interface JournaledWrite extends BufferedWrite {
  /**
   * True when the journal took the write: with the local journal it is
   * durable when enqueue returns (a crash of the process cannot lose it);
   * with an asynchronous journal (JetStream) it is published and
   * {@link EnqueuedWrite.durable} says when it is acknowledged. False when
   * the journal failed and the write is in memory only (it lands at call end
   * unless the process dies first), or there is no journal.
   */
  readonly journaled: boolean;
}

/** A write as enqueue returns it: buffered, whether the journal took it, and when it is durable. */
export interface EnqueuedWrite extends JournaledWrite {
  /**
   * Resolves `true` once this write and every earlier write of the call are
   * durable (a crash of the process, or with JetStream of the whole host,
   * cannot lose them): at once with the local journal when `journaled`;
   * when JetStream acknowledges with the JetStream journal. Resolves `false`
   * when that can no longer happen (no journal, the journal failed, or the
   * acknowledgement did not come in time). Never rejects. Await it off the
   * frame path before telling the caller "booked". Not enumerable: a
   * spread or JSON copy of the write leaves it out.
   */
  readonly durable: Promise<boolean>;
}

const DURABLE = Promise.resolve(true);
const NOT_DURABLE = Promise.resolve(false);

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
  private journal: CallJournalHandle | undefined;
  private readonly journalRoot: JournalBackend | undefined;
  private journalFailure: JournalError | undefined;
  private readonly onJournalFailure: ((error: JournalError) => void) | undefined;
  private readonly buffered: JournaledWrite[] = [];
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
  static restore<TOps extends WriteOperations>(contents: JournalContents, file: CallJournalHandle | undefined, operations: TOps): WriteBuffer<TOps> {
    const buffer = new WriteBuffer({ ...contents.header, operations, maxOperations: Math.max(1, contents.writes.length) });
    buffer.journal = file;
    const restored: JournaledWrite[] = contents.writes.map((write) => Object.freeze({ ...write, journaled: true }));
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
    const ack = this.journalWrite(write);
    const journaled: JournaledWrite = Object.freeze({ ...write, journaled: ack !== false });
    this.buffered.push(journaled);
    // Not enumerable: the write compares, spreads and serialises as before (`durable` is read by name).
    const durable = ack === false ? NOT_DURABLE : (ack ?? DURABLE);
    return Object.freeze(Object.defineProperty({ ...journaled }, 'durable', { value: durable, enumerable: false })) as EnqueuedWrite;
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

  /**
   * Appends to the journal unless it failed before (after a failed append the
   * file may end torn: no more appends). False: not journaled; a promise: its
   * acknowledgement (an acknowledgement that fails counts as a journal
   * failure); nothing: durable now.
   */
  private journalWrite(write: BufferedWrite): false | Promise<boolean> | undefined {
    if (!this.journal || this.journalFailure) return false;
    try {
      const ack = this.journal.append(write);
      if (!ack) return undefined;
      const journal = this.journal;
      return ack.then((durable) => {
        if (!durable && this.journal === journal) {
          this.failJournal(new JournalError(`write ${write.idempotencyKey} of call ${this.call.callSid} was not acknowledged by the journal`));
        }
        return durable;
      });
    } catch (error) {
      this.failJournal(error instanceof JournalError ? error : new JournalError(String(error), { cause: error }));
      return false;
    }
  }

  /** The journal failed: later writes are kept in memory only; counted by the journal, told to the listener once. */
  private failJournal(failure: JournalError): void {
    if (this.journalFailure) return;
    this.journalFailure = failure;
    this.journalRoot?.reportAppendFailure(this.call.callSid, failure);
    try {
      this.onJournalFailure?.(failure);
    } catch {
      // The listener's own failure must not fail the write.
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
    let fresh: CallJournalHandle | undefined;
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
  get journalFile(): CallJournalHandle | undefined {
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
  writes(): readonly JournaledWrite[] {
    return this.buffered.slice();
  }
}
