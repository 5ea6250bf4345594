import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { MeterProvider } from '@opentelemetry/api';
import type { Knex } from 'knex';
import type { z } from 'zod';
import { DEFAULTS } from '../defaults.js';
import { settlesWithin } from '../settles-within.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { deadLetterName, describeError, type WrittenDeadLetter } from './dead-letter.js';
import { declarationsOf, listDeadLetters, replayDeadLetters, type DeadLetterReplay, type DeadLetterSummary } from './dead-letter-replay.js';
import { flush, type FlushResult } from './flush-transaction.js';
import type { JournalBackend } from './journal-backend.js';
import { isRecoverableJournal } from './journal-recovery.js';
import { Journal } from './journal.js';
import { createFlusherInstruments, type FlusherInstruments } from './metrics.js';
import type { FlushOutcome, RecoveryReport } from './flush-outcome.js';
import { recoverOrphans } from './recovery.js';

export type { FlushOutcome, RecoveryReport };
import { backoffDelayMs, isTransientError } from './retry.js';
import type { WriteBuffer } from './write-buffer.js';
import { checkWriteSchema, type CheckedSchema } from './schema-check.js';
import { validateWriteOperations, type WriteOperations } from './write-operation.js';

export interface FlusherOptions {
  knex: Knex;
  /** The app's write operations: recovered journals are flushed with them. */
  operations: WriteOperations;
  /**
   * The journal buffers write to, where recovery looks for the calls of
   * processes that are gone and where dead letters are kept: the local
   * {@link Journal} (its directory) or the {@link JetStreamJournal} (its stream).
   */
  journal: JournalBackend;
  /** Default: a pino logger on stdout at info. */
  logger?: Logger;
  /** First wait before retrying a transient failure. Default 200 ms. */
  retryInitialDelayMs?: number;
  /** Longest wait between retries (the backoff doubles up to it). Default 30 000 ms. */
  retryMaxDelayMs?: number;
  /** How often recovery looks for calls that gone processes left. Default 30 000 ms. */
  recoveryIntervalMs?: number;
  /** Most journal files one recovery pass replays at once. Default 4. */
  recoveryConcurrency?: number;
  /** Passed to {@link flush}. Default 10 000 ms. */
  statementTimeoutMs?: number;
  /** For the metrics. Default the global one. */
  meterProvider?: MeterProvider;
  /**
   * Whether {@link Flusher.start} checks the declared writes against the
   * database first (one catalog read, see checkWriteSchema): a mismatch
   * rejects start with a ConfigError. Default true.
   */
  checkSchema?: boolean;
  /** The app's tenant schema: the start check refuses a tenant column that cannot hold its values. Default: not checked. */
  tenantSchema?: z.ZodType;
}

/** For `/readyz`. */
export interface FlusherStats {
  /** Calls whose writes are being flushed, retried or recovered now. */
  readonly pending: number;
  /** Dead-letter files in the journal (including earlier runs'). */
  readonly deadLettered: number;
  /** Journaled calls live in this process. */
  readonly openCalls: number;
  /** Since start. */
  readonly flushed: number;
  readonly recovered: number;
  readonly retries: number;
  /** Written rows that conflicted and were landed by their operation's conflict policy. */
  readonly conflicts: number;
  /** Writes dead-lettered on their own, while the rest of their call landed (since start). */
  readonly rejectedWrites: number;
  /** True while flushes fail on transient errors (the database is down, read-only, restarting): until one lands. */
  readonly degraded: boolean;
}

export interface FlusherEvents {
  retry: [{ callSid: string; attempt: number; delayMs: number; error: unknown }];
  flushed: [{ callSid: string; attempts: number; recovered: boolean }];
  deadLettered: [{ callSid: string; reason: string; file: string; writes?: number }];
}

/**
 * Makes buffered writes land: {@link Flusher.flush} retries a transient
 * failure with capped exponential backoff and jitter until it lands, and
 * dead-letters a permanent one (logged, counted, never blocking other
 * calls). {@link Flusher.start} recovers, now and every
 * `recoveryIntervalMs`, the journals of processes that are gone: each such
 * call is claimed by exactly one recoverer and replayed (flush is
 * idempotent, so a replay after a partial earlier attempt writes each
 * write once).
 */
export class Flusher extends EventEmitter<FlusherEvents> {
  private readonly knex: Knex;
  private readonly operations: WriteOperations;
  private readonly journal: JournalBackend;
  private readonly logger: Logger;
  private readonly retryInitialDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly recoveryIntervalMs: number;
  private readonly recoveryConcurrency: number;
  private readonly statementTimeoutMs: number;
  private readonly instruments: FlusherInstruments;
  private readonly sleepers = new Set<() => void>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Buffers whose flush is under way or waiting to retry. */
  private readonly pendingBuffers = new Set<WriteBuffer>();
  private recovering: Promise<RecoveryReport> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly checkSchema: boolean;
  private readonly tenantSchema: z.ZodType | undefined;
  private schema: CheckedSchema | undefined;
  /** Buffers whose last attempt failed on a transient error. */
  private readonly failing = new Set<WriteBuffer>();
  private counts = { pending: 0, deadLettered: 0, flushed: 0, recovered: 0, retries: 0, conflicts: 0, rejectedWrites: 0 };

  constructor(options: FlusherOptions) {
    super();
    this.knex = options.knex;
    validateWriteOperations(options.operations);
    this.operations = options.operations;
    this.journal = options.journal;
    this.logger = options.logger ?? createLogger();
    this.retryInitialDelayMs = positive('retryInitialDelayMs', options.retryInitialDelayMs ?? DEFAULTS.flushRetryInitialDelayMs);
    this.retryMaxDelayMs = positive('retryMaxDelayMs', options.retryMaxDelayMs ?? DEFAULTS.flushRetryMaxDelayMs);
    if (this.retryMaxDelayMs < this.retryInitialDelayMs) {
      throw new ConfigError(
        `Flusher retryMaxDelayMs (${this.retryMaxDelayMs}) must not be less than retryInitialDelayMs (${this.retryInitialDelayMs})`,
      );
    }
    this.recoveryIntervalMs = positive('recoveryIntervalMs', options.recoveryIntervalMs ?? DEFAULTS.recoveryIntervalMs);
    this.recoveryConcurrency = positive('recoveryConcurrency', options.recoveryConcurrency ?? DEFAULTS.recoveryConcurrency);
    this.statementTimeoutMs = positive('statementTimeoutMs', options.statementTimeoutMs ?? DEFAULTS.flushStatementTimeoutMs);
    this.counts.deadLettered = this.journal.countDeadLetters();
    this.checkSchema = options.checkSchema ?? true;
    this.tenantSchema = options.tenantSchema;
    this.instruments = createFlusherInstruments(() => this.stats(), options.meterProvider);
  }

  /**
   * Checks the declared writes against the database (one catalog read,
   * unless `checkSchema: false`), then recovers now, and every
   * `recoveryIntervalMs`. Resolves with the first pass's report.
   * @throws {ConfigError} the database does not match a declaration (one line naming the operation and what is missing): nothing started.
   */
  async start(): Promise<RecoveryReport> {
    if (this.checkSchema && !this.schema) await this.checkDatabase();
    if (!this.timer && !this.stopped) {
      this.timer = setInterval(() => {
        this.recover().catch((error: unknown) => this.logger.error({ err: error }, 'journal recovery failed'));
      }, this.recoveryIntervalMs);
      this.timer.unref();
    }
    return this.recover();
  }

  /**
   * Flushes a buffer (closing it) until its writes land or can never land.
   * Never rejects: the outcome says what happened.
   */
  flush(buffer: WriteBuffer): Promise<FlushOutcome> {
    this.instruments.callWrites(buffer.size);
    return this.track(this.flushUntilSettled(buffer, false));
  }

  /** One recovery pass (a pass already running is joined). */
  recover(): Promise<RecoveryReport> {
    this.recovering ??= this.track(this.recoveryPass()).finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  /**
   * Checks the declared writes against the database now (what start does
   * first) and keeps what it read for the flushes: upserts' conflict
   * targets, the foreign-key order of operations.
   * @throws {ConfigError} a mismatch.
   */
  async checkDatabase(): Promise<CheckedSchema> {
    this.schema = await checkWriteSchema(this.knex, this.operations, { tenantSchema: this.tenantSchema });
    return this.schema;
  }

  /** The dead letters in the journal's `dead-letter/` directory, oldest first. */
  deadLetters(): DeadLetterSummary[] {
    return listDeadLetters(this.localJournal().deadLetterDir);
  }

  /** The local journal (dead letters are files there); other backends keep theirs (see JetStreamJournal.deadLetters). */
  private localJournal(): Journal {
    if (!(this.journal instanceof Journal)) throw new ConfigError('dead letters are listed and re-landed from a local journal directory');
    return this.journal;
  }

  /**
   * Re-lands dead letters (all, or the named files) after a fix, each once:
   * see replayDeadLetters. Uses this flusher's operations and what its
   * start check read.
   */
  async replayDeadLetters(files?: readonly string[]): Promise<DeadLetterReplay[]> {
    try {
      return await replayDeadLetters({
        knex: this.knex,
        dir: this.localJournal().deadLetterDir,
        operations: this.operations,
        ...(files ? { files } : {}),
        ...(this.schema ? { schema: this.schema } : {}),
        statementTimeoutMs: this.statementTimeoutMs,
        logger: this.logger,
      });
    } finally {
      this.counts.deadLettered = this.journal.countDeadLetters();
    }
  }

  stats(): FlusherStats {
    return { ...this.counts, openCalls: this.journal.openCalls, degraded: this.failing.size > 0 };
  }

  /**
   * Stops recovery and retries: waiting retries resolve `deferred` (their
   * writes stay journaled for the next process), attempts under way finish,
   * or, past `graceMs`, are left behind (their writes are journaled: the
   * process may exit; a transaction cut short rolls back and is replayed).
   * Runs once.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      clearInterval(this.timer);
      for (const wake of [...this.sleepers]) wake();
      this.instruments.unregister();
    }
    const settled = Promise.allSettled([...this.inFlight]);
    if (options.graceMs === undefined) {
      await settled;
      return;
    }
    if (!(await settlesWithin(settled, options.graceMs))) {
      let unjournaled = 0;
      for (const buffer of this.pendingBuffers) if (!buffer.persist()) unjournaled += buffer.size;
      this.logger.warn(
        { pending: this.pendingBuffers.size, graceMs: options.graceMs, unjournaledWrites: unjournaled },
        'flushes still under way at shutdown; their writes stay in the journal for the next process',
      );
    }
  }

  private async flushUntilSettled(buffer: WriteBuffer, recovered: boolean): Promise<FlushOutcome> {
    buffer.close();
    const { callSid } = buffer.call;
    this.counts.pending++;
    this.pendingBuffers.add(buffer);
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.stopped) return this.defer(buffer, attempt - 1);
        const startedAt = performance.now();
        try {
          const result = await flush(this.knex, buffer, { statementTimeoutMs: this.statementTimeoutMs, logger: this.logger, schema: this.schema });
          this.instruments.flushAttempt(performance.now() - startedAt, result.statements.length);
          this.failing.delete(buffer);
          if (result.rejected.length > 0) return await this.landedPartly(buffer, result, attempt, recovered);
          this.counts.flushed++;
          this.counts.conflicts += result.conflicts.length;
          if (result.conflicts.length > 0) this.instruments.conflicts.add(result.conflicts.length);
          if (recovered) this.counts.recovered++;
          this.instruments.flushed.add(1);
          if (attempt > 1 || recovered) this.logger.info({ callSid, attempts: attempt, recovered }, 'buffered writes landed');
          this.notify('flushed', { callSid, attempts: attempt, recovered });
          return { status: 'flushed', attempts: attempt, result };
        } catch (error) {
          this.instruments.flushAttempt(performance.now() - startedAt, undefined);
          if (!isTransientError(error)) {
            this.failing.delete(buffer);
            return await this.deadLetter(buffer, error, attempt);
          }
          this.failing.add(buffer);
          const delayMs = backoffDelayMs(attempt - 1, this.retryInitialDelayMs, this.retryMaxDelayMs);
          this.counts.retries++;
          this.instruments.retries.add(1);
          // Once, then every 10th attempt: a database outage must not flood the log.
          if (attempt === 1 || attempt % 10 === 0) {
            this.logger.warn({ err: error, callSid, attempt, delayMs }, 'flush failed on a transient error; retrying');
          }
          this.notify('retry', { callSid, attempt, delayMs, error });
          await this.sleep(delayMs);
        }
      }
    } finally {
      this.counts.pending--;
      this.pendingBuffers.delete(buffer);
      this.failing.delete(buffer);
    }
  }

  private defer(buffer: WriteBuffer, attempts: number): FlushOutcome {
    // After a journal failure the rest of the writes are in memory only: one more try to journal them all.
    const journaled = buffer.persist();
    this.logger[journaled ? 'warn' : 'error'](
      { callSid: buffer.call.callSid, writes: buffer.size, journaled },
      journaled ? 'flusher stopped; the writes stay in the journal' : 'flusher stopped; writes that are not in the journal are lost',
    );
    return { status: 'deferred', attempts };
  }

  private async deadLetter(buffer: WriteBuffer, error: unknown, attempts: number): Promise<FlushOutcome> {
    const { call } = buffer;
    const reason = describeError(error);
    let letter: { file: string; written: boolean };
    try {
      letter = await this.journal.writeDeadLetter(deadLetterName(call), {
        reason: `permanent flush failure: ${reason.message}`,
        error: reason,
        call,
        writes: buffer.writes(),
        operations: declarationsOf(this.operations, buffer.writes().map((write) => write.op)),
        ...(buffer.journalFile ? { journalFile: path.basename(buffer.journalFile.path) } : {}),
        deadLetteredAt: new Date().toISOString(),
      });
      buffer.journalFile?.remove();
    } catch (letterError) {
      // The journal file stays: a later process recovers it and tries again (its letter, if written, is not written twice).
      this.logger.error({ err: letterError, callSid: call.callSid, reason: reason.message }, 'dead-lettering failed');
      return this.defer(buffer, attempts);
    }
    this.counted(call.callSid, reason.message, letter);
    return { status: 'dead-lettered', attempts, reason: reason.message, file: letter.file };
  }

  /**
   * The rest of the call landed: dead-letters the writes that could not
   * (with the reason per write), then removes the journal. A crash before
   * the letter is written replays the journal: the landed writes change
   * nothing, the others are rejected again.
   */
  private async landedPartly(buffer: WriteBuffer, result: FlushResult, attempts: number, recovered: boolean): Promise<FlushOutcome> {
    const { call } = buffer;
    const first = result.rejected[0]!.reason;
    const reason = `${result.rejected.length} of ${result.writes} write(s) could not land (the rest landed): ${first.message}`;
    let letter: WrittenDeadLetter;
    try {
      letter = await this.journal.writeDeadLetter(deadLetterName(call), {
        reason,
        error: first,
        call,
        writes: result.rejected.map(({ write }) => ({ seq: write.seq, idempotencyKey: write.idempotencyKey, op: write.op, row: write.row })),
        rejected: result.rejected.map(({ write, reason: why }) => ({ seq: write.seq, op: write.op, idempotencyKey: write.idempotencyKey, reason: why })),
        operations: declarationsOf(this.operations, result.rejected.map(({ write }) => write.op)),
        ...(buffer.journalFile ? { journalFile: path.basename(buffer.journalFile.path) } : {}),
        deadLetteredAt: new Date().toISOString(),
      });
      buffer.journalFile?.remove();
    } catch (letterError) {
      this.logger.error({ err: letterError, callSid: call.callSid, reason }, 'dead-lettering the writes that could not land failed');
      return this.defer(buffer, attempts);
    }
    this.counts.rejectedWrites += result.rejected.length;
    const landedSome = result.rejected.length < result.writes;
    if (landedSome) {
      this.counts.flushed++;
      if (recovered) this.counts.recovered++;
      this.instruments.flushed.add(1);
      this.notify('flushed', { callSid: call.callSid, attempts, recovered });
    }
    this.logger.warn(
      { callSid: call.callSid, writes: result.writes, landed: result.writes - result.rejected.length, deadLettered: result.rejected.length, file: letter.file },
      'some writes could not land; the rest of the call landed',
    );
    this.counted(call.callSid, reason, letter, result.rejected.length);
    if (!landedSome) return { status: 'dead-lettered', attempts, reason, file: letter.file };
    return { status: 'flushed', attempts, result, deadLetter: letter.file };
  }

  /** A dead letter written now is counted, logged and notified; one written by an earlier attempt is only logged. */
  private counted(callSid: string, reason: string, letter: WrittenDeadLetter, writes?: number): void {
    const { file } = letter;
    if (!letter.written) {
      this.logger.warn({ callSid, reason, file }, 'buffered writes can never land; already dead-lettered');
      return;
    }
    this.counts.deadLettered++;
    this.instruments.deadLettered.add(1);
    this.logger.error({ callSid, reason, file, ...(writes === undefined ? {} : { writes }) }, 'buffered writes can never land; dead-lettered');
    this.notify('deadLettered', { callSid, reason, file, ...(writes === undefined ? {} : { writes }) });
  }

  private recoveryPass(): Promise<RecoveryReport> {
    const host = {
      operations: this.operations,
      concurrency: this.recoveryConcurrency,
      logger: this.logger,
      isStopped: () => this.stopped,
      replay: (buffer: WriteBuffer) => this.flushUntilSettled(buffer, true),
      deadLettered: (callSid: string, reason: string, letter: WrittenDeadLetter) => this.counted(callSid, reason, letter),
    };
    if (this.journal instanceof Journal) return recoverOrphans({ ...host, journal: this.journal });
    if (isRecoverableJournal(this.journal)) return this.journal.recover(host);
    return Promise.resolve({ claimed: 0, flushed: 0, deadLettered: 0, deferred: 0, empty: 0 });
  }

  /** Emits an event; a listener that throws is logged, never breaks a flush. */
  private notify<K extends keyof FlusherEvents>(event: K, ...args: FlusherEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: FlusherEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.logger.error({ err: error, event }, 'a Flusher event listener threw');
    }
  }

  /** Waits, unless stop() wakes it first. The timer does not keep the process alive. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.sleepers.add(wake);
    });
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const forget = () => this.inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`Flusher ${name} must be a positive integer (received ${JSON.stringify(value)})`);
  }
  return value;
}
