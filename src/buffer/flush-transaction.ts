import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { DEFAULTS } from '../defaults.js';
import { Attributes, Events, INSTRUMENTATION_NAME, SpanNames } from '../guard/attributes.js';
import type { Logger } from '../logger.js';
import { planFlush, statementsOf, type PlannedStatement } from './flush-plan.js';
import { runStatement } from './flush-statements.js';
import type { CallHeader } from './journal-format.js';
import type { JsonValue, Row, WriteOperations, WriteOperationSpec } from './write-operation.js';
import type { WriteBuffer } from './write-buffer.js';

export interface FlushOptions {
  /** Longest a statement of the flush may run before it is cancelled (a transient failure). Default 10 000 ms. */
  statementTimeoutMs?: number;
  /** Where a failure to mark the journal after a commit is logged (the commit stands). Default: not logged. */
  logger?: Logger;
}

/** An inserted row another constraint rejected, and what its operation's conflict policy landed instead. */
export interface FlushConflict {
  readonly op: string;
  readonly idempotencyKey: string;
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
  /** Rows that conflicted and were resolved by their operation's `onConflict` (in the same transaction). */
  readonly conflicts: readonly FlushConflict[];
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
 * stays. Flusher.flush is the durable path (retries, dead letters).
 */
export async function flush(knex: Knex, buffer: WriteBuffer, options: FlushOptions = {}): Promise<FlushResult> {
  buffer.close();
  const { call } = buffer;
  const plan = planFlush(buffer.writes(), buffer.operations);
  const timeoutMs = options.statementTimeoutMs ?? DEFAULTS.flushStatementTimeoutMs;
  const attributes = { [Attributes.CALL_SID]: call.callSid, [Attributes.CONVERSATION_ID]: call.callSid, [Attributes.TENANT_ID]: String(call.tenantId), [Attributes.CALL_WRITES]: buffer.size };
  const result = await tracer.startActiveSpan(SpanNames.FLUSH, { attributes }, async (span) => {
    try {
      if (plan.length === 0) return { callSid: call.callSid, writes: 0, statements: [], conflicts: [] };
      // Awaited inside the active span: the transaction's queries are its children.
      const conflicts: FlushConflict[] = [];
      const statements = await knex.transaction(async (trx) => {
        const done: FlushedStatement[] = [];
        const run = async (statement: PlannedStatement): Promise<readonly Row[]> => {
          const outcome = await runStatement(trx, call, statement, timeoutMs);
          done.push({ op: statement.op, table: statement.spec.table, rows: statement.rows.length, affected: outcome.affected });
          return outcome.conflicts;
        };
        for (const statement of plan) {
          const rejected = await run(statement);
          if (rejected.length === 0) continue;
          const resolved = resolveConflicts(statement, rejected, call, buffer.operations);
          conflicts.push(...resolved.conflicts);
          for (const extra of resolved.statements) {
            if ((await run(extra)).length > 0) throw new Error(`flush of call ${call.callSid}: a row that ${extra.op}'s conflict policy landed conflicted too`);
          }
        }
        return done;
      });
      span.setAttributes({ [Attributes.CALL_FLUSH_STATEMENTS]: statements.length, [Attributes.CALL_FLUSH_CONFLICTS]: conflicts.length });
      for (const conflict of conflicts) {
        span.addEvent(Events.WRITE_CONFLICT, { 'live_call.write.op': conflict.op, 'live_call.write.idempotency_key': conflict.idempotencyKey });
      }
      return { callSid: call.callSid, writes: buffer.size, statements, conflicts };
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
  if (result.conflicts.length > 0) {
    options.logger?.warn({ callSid: call.callSid, conflicts: result.conflicts }, 'writes conflicted; their conflict policy landed instead');
  }
  try {
    buffer.journalFile?.markFlushed();
  } catch (error) {
    // The data is committed; a leftover journal is replayed idempotently by recovery.
    options.logger?.warn({ err: error, callSid: call.callSid }, 'flushed, but marking the journal failed');
  }
  return result;
}

/**
 * The statements that land what a conflict policy decided for rejected
 * rows: the `instead` rows (same idempotency key, the plain insert: a
 * second conflict fails the flush), then the `also` rows of other
 * operations, the tenant forced on each.
 */
function resolveConflicts(
  statement: PlannedStatement,
  rejected: readonly Row[],
  call: CallHeader,
  operations: WriteOperations,
): { statements: PlannedStatement[]; conflicts: FlushConflict[] } {
  const { spec, op } = statement;
  const idem = spec.idempotencyColumn!;
  const instead: Row[] = [];
  const also = new Map<string, Row[]>();
  const conflicts: FlushConflict[] = [];
  for (const row of rejected) {
    const key = String(row[idem]);
    conflicts.push({ op, idempotencyKey: key });
    const resolution = spec.onConflict!(row, call);
    if (resolution.instead) instead.push(boundRow(resolution.instead, spec, call, { [idem]: key }));
    (resolution.also ?? []).forEach(({ op: otherOp, row: otherRow }, n) => {
      const other = Object.hasOwn(operations, otherOp) ? operations[otherOp] : undefined;
      if (!other) throw new Error(`${op}'s conflict policy names no declared operation ${JSON.stringify(otherOp)}`);
      const extraKey = other.kind === 'insert' ? { [other.idempotencyColumn!]: `${key}:${otherOp}:${n + 1}` } : {};
      also.set(otherOp, [...(also.get(otherOp) ?? []), boundRow(otherRow, other, call, extraKey)]);
    });
  }
  const statements = [
    ...statementsOf(op, { ...spec, onConflict: undefined }, instead),
    ...[...also].flatMap(([otherOp, rows]) => statementsOf(otherOp, operations[otherOp]!, rows)),
  ];
  return { statements, conflicts };
}

/** A row a policy returned: undefined columns dropped, the tenant (and key) forced. */
function boundRow(row: Record<string, JsonValue | undefined>, spec: WriteOperationSpec, call: CallHeader, fixed: Row): Row {
  const bound: Record<string, JsonValue> = {};
  for (const [column, value] of Object.entries(row)) if (value !== undefined) bound[column] = value;
  return { ...bound, ...fixed, [spec.tenantColumn]: call.tenantId };
}
