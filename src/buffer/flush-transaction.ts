import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { DEFAULTS } from '../defaults.js';
import { Attributes, INSTRUMENTATION_NAME, SpanNames } from '../telemetry/attributes.js';
import type { Logger } from '../telemetry/logger.js';
import { planFlush } from './flush-plan.js';
import { runStatement } from './flush-statements.js';
import type { Flusher } from './flusher.js';
import type { WriteBuffer } from './write-buffer.js';

export interface FlushOptions {
  /** Longest a statement of the flush may run before it is cancelled (a transient failure). Default 10 000 ms. */
  statementTimeoutMs?: number;
  /** Where a failure to mark the journal after a commit is logged (the commit stands). Default: not logged. */
  logger?: Logger;
}

/** What one statement of a flush did. */
export interface FlushedStatement {
  readonly op: string;
  readonly table: string;
  /** Rows the statement carried. */
  readonly rows: number;
  /** Rows it inserted, upserted or updated (an insert replayed: 0). */
  readonly affected: number;
}

export interface FlushResult {
  readonly callSid: string;
  /** Operations in the buffer. */
  readonly writes: number;
  /** The statements between BEGIN and COMMIT, in order. */
  readonly statements: readonly FlushedStatement[];
}

const tracer = trace.getTracer(INSTRUMENTATION_NAME);

/**
 * Writes a call's buffered operations in ONE transaction: BEGIN, one
 * statement per declared operation (see planFlush), COMMIT; inside a
 * `call.flush` span. Closes the buffer first; marks its journal flushed
 * after the commit.
 *
 * Idempotent: inserts carry their idempotency keys (ON CONFLICT DO
 * NOTHING), upserts and updates set values, so a second flush of the same
 * buffer (or a replay after a crash) changes nothing.
 *
 * Tenant-bound: every row carries the call's tenant; an upsert or update
 * that would touch another tenant's row fails the flush with
 * {@link TenantMismatchError} (a permanent failure: dead letter).
 *
 * One attempt: it rejects on any failure and the buffer's journal file
 * stays. {@link Flusher.flush} is the durable path (retries, dead letters).
 */
export async function flush(knex: Knex, buffer: WriteBuffer, options: FlushOptions = {}): Promise<FlushResult> {
  buffer.close();
  const { call } = buffer;
  const plan = planFlush(buffer.writes(), buffer.operations);
  const timeoutMs = options.statementTimeoutMs ?? DEFAULTS.flushStatementTimeoutMs;
  const attributes = { [Attributes.CALL_SID]: call.callSid, [Attributes.BUSINESS_ID]: String(call.tenantId), [Attributes.CALL_WRITES]: buffer.size };
  const result = await tracer.startActiveSpan(SpanNames.FLUSH, { attributes }, async (span) => {
    try {
      if (plan.length === 0) return { callSid: call.callSid, writes: 0, statements: [] };
      // Awaited inside the active span: the transaction's queries are its children.
      const statements = await knex.transaction(async (trx) => {
        const done: FlushedStatement[] = [];
        for (const statement of plan) {
          const affected = await runStatement(trx, call, statement, timeoutMs);
          done.push({ op: statement.op, table: statement.spec.table, rows: statement.rows.length, affected });
        }
        return done;
      });
      span.setAttribute(Attributes.CALL_FLUSH_STATEMENTS, statements.length);
      return { callSid: call.callSid, writes: buffer.size, statements };
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
  try {
    buffer.journalFile?.markFlushed();
  } catch (error) {
    // The data is committed; a leftover journal is replayed idempotently by recovery.
    options.logger?.warn({ err: error, callSid: call.callSid }, 'flushed, but marking the journal failed');
  }
  return result;
}
