import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { DEFAULTS } from '../defaults.js';
import { Attributes, Events, INSTRUMENTATION_NAME, SpanNames } from '../guard/attributes.js';
import type { Logger } from '../logger.js';
import { describeError, type DeadLetter } from './dead-letter.js';
import { planFlush, statementsOf, type PlannedStatement } from './flush-plan.js';
import { runStatement } from './flush-statements.js';
import type { BufferedWrite, CallHeader } from './journal-format.js';
import { isTransientError } from './retry.js';
import type { CheckedSchema } from './schema-check.js';
import type { JsonValue, Row, WriteOperations, WriteOperationSpec } from './write-operation.js';
import type { WriteBuffer } from './write-buffer.js';

export interface FlushOptions {
  /** Longest a statement of the flush may run before it is cancelled (a transient failure). Default 10 000 ms. */
  statementTimeoutMs?: number;
  /** Where a failure to mark the journal after a commit is logged (the commit stands). Default: not logged. */
  logger?: Logger;
  /** What the start-time check read (conflict targets, foreign-key order). Default: upserts conflict on their key; operations land in enqueue order. */
  schema?: CheckedSchema;
}

/** An inserted row another constraint rejected, and what its operation's conflict policy landed instead. */
export interface FlushConflict {
  readonly op: string;
  readonly idempotencyKey: string;
}

/** A write that could not land (the rest of its call landed without it), and why. */
export interface RejectedWrite {
  readonly write: BufferedWrite;
  readonly reason: DeadLetter['error'];
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
  /**
   * Writes that failed permanently and were left out so that the rest
   * could land (the journal file is then not marked: Flusher dead-letters
   * these and removes it). Empty on the happy path.
   */
  readonly rejected: readonly RejectedWrite[];
}

const tracer = trace.getTracer(INSTRUMENTATION_NAME);

/**
 * Writes a call's buffered operations in ONE transaction: BEGIN, one
 * statement per operation (see planFlush: enqueue order, foreign keys
 * first), COMMIT; inside a `call.flush` span. Closes the buffer first;
 * marks its journal flushed after the commit.
 *
 * One bad write never takes the others: when that transaction fails
 * permanently (a constraint, a tenant mismatch, a type), a second
 * transaction runs each statement under a savepoint, and each row of a
 * failing statement under its own, and commits everything that lands; the
 * writes that cannot land come back in `rejected` with their reason
 * (`call.flush.dead_lettered` and one event each on the span).
 *
 * Idempotent: inserts carry their idempotency keys (ON CONFLICT DO
 * NOTHING), upserts and updates set values, so a second flush of the same
 * buffer (or a replay after a crash) changes nothing.
 *
 * Tenant-bound: every row carries the call's tenant; an upsert or update
 * that would touch another tenant's row is rejected
 * ({@link TenantMismatchError} as its reason).
 *
 * One attempt: it rejects on a transient failure (or one that is not a
 * write's: a journal from another version of the app) and the buffer's
 * journal file stays. Flusher.flush is the durable path (retries, dead letters).
 */
export async function flush(knex: Knex, buffer: WriteBuffer, options: FlushOptions = {}): Promise<FlushResult> {
  buffer.close();
  const { call } = buffer;
  const writes = buffer.writes();
  const plan = planFlush(writes, buffer.operations, options.schema);
  const timeoutMs = options.statementTimeoutMs ?? DEFAULTS.flushStatementTimeoutMs;
  const attributes = { [Attributes.CALL_SID]: call.callSid, [Attributes.CONVERSATION_ID]: call.callSid, [Attributes.TENANT_ID]: String(call.tenantId), [Attributes.CALL_WRITES]: buffer.size };
  const runner: PlanRunner = { call, operations: buffer.operations, timeoutMs, schema: options.schema };
  const result = await tracer.startActiveSpan(SpanNames.FLUSH, { attributes }, async (span) => {
    try {
      if (plan.length === 0) return { callSid: call.callSid, writes: 0, statements: [], conflicts: [], rejected: [] };
      // Awaited inside the active span: the transaction's queries are its children.
      let landed: Landed;
      try {
        landed = await knex.transaction((trx) => runPlan(trx, plan, runner, false));
      } catch (error) {
        if (isTransientError(error)) throw error;
        options.logger?.warn({ err: error, callSid: call.callSid }, 'flush failed on a write; landing the writes that can land');
        landed = await knex.transaction((trx) => runPlan(trx, plan, runner, true));
      }
      const bySeq = new Map(writes.map((write) => [write.seq, write]));
      const rejected = landed.rejected.flatMap(({ seqs, reason }) => seqs.map((seq) => ({ write: bySeq.get(seq)!, reason })));
      span.setAttributes({
        [Attributes.CALL_FLUSH_STATEMENTS]: landed.statements.length,
        [Attributes.CALL_FLUSH_CONFLICTS]: landed.conflicts.length,
        [Attributes.CALL_FLUSH_DEAD_LETTERED]: rejected.length,
      });
      for (const conflict of landed.conflicts) {
        span.addEvent(Events.WRITE_CONFLICT, { 'live_call.write.op': conflict.op, 'live_call.write.idempotency_key': conflict.idempotencyKey });
      }
      for (const { write, reason } of rejected) {
        span.addEvent(Events.WRITE_DEAD_LETTERED, {
          'live_call.write.op': write.op,
          'live_call.write.idempotency_key': write.idempotencyKey,
          'live_call.write.reason': reason.message,
        });
      }
      return { callSid: call.callSid, writes: buffer.size, statements: landed.statements, conflicts: landed.conflicts, rejected };
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
  // With rejected writes the journal stays until they are dead-lettered (Flusher): a crash now replays, the landed ones idempotently.
  if (result.rejected.length > 0) return result;
  try {
    buffer.journalFile?.markFlushed();
  } catch (error) {
    // The data is committed; a leftover journal is replayed idempotently by recovery.
    options.logger?.warn({ err: error, callSid: call.callSid }, 'flushed, but marking the journal failed');
  }
  return result;
}

interface PlanRunner {
  readonly call: CallHeader;
  readonly operations: WriteOperations;
  readonly timeoutMs: number;
  readonly schema: CheckedSchema | undefined;
}

interface Landed {
  statements: FlushedStatement[];
  conflicts: FlushConflict[];
  rejected: Array<{ seqs: readonly number[]; reason: DeadLetter['error'] }>;
}

/**
 * Runs the plan in a transaction. `isolate`: each statement under a
 * savepoint; a statement that fails permanently is retried row by row, each
 * row under its own savepoint, and the rows that still fail are rejected.
 * A transient failure rejects the whole attempt.
 */
async function runPlan(trx: Knex.Transaction, plan: readonly PlannedStatement[], runner: PlanRunner, isolate: boolean): Promise<Landed> {
  const landed: Landed = { statements: [], conflicts: [], rejected: [] };
  const keep = (part: Omit<Landed, 'rejected'>) => {
    landed.statements.push(...part.statements);
    landed.conflicts.push(...part.conflicts);
  };
  for (const statement of plan) {
    if (!isolate) {
      keep(await runGroup(trx, statement, runner));
      continue;
    }
    const whole = await attempt(trx, statement, runner);
    if (!('error' in whole)) {
      keep(whole);
      continue;
    }
    if (statement.rows.length === 1) {
      landed.rejected.push({ seqs: statement.sources[0]!, reason: describeError(whole.error) });
      continue;
    }
    for (let index = 0; index < statement.rows.length; index++) {
      const single = { ...statement, rows: [statement.rows[index]!], sources: [statement.sources[index]!] };
      const one = await attempt(trx, single, runner);
      if ('error' in one) landed.rejected.push({ seqs: single.sources[0]!, reason: describeError(one.error) });
      else keep(one);
    }
  }
  return landed;
}

/** One statement and what its conflict policy lands, under a savepoint: its outcome, or the permanent error that rolled it back. */
async function attempt(
  trx: Knex.Transaction,
  statement: PlannedStatement,
  runner: PlanRunner,
): Promise<Omit<Landed, 'rejected'> | { error: unknown }> {
  try {
    return await trx.transaction((savepoint) => runGroup(savepoint, statement, runner));
  } catch (error) {
    if (isTransientError(error)) throw error;
    return { error };
  }
}

/** A statement, then the statements that land what its conflict policy decided for rows another constraint rejected. */
async function runGroup(trx: Knex.Transaction, statement: PlannedStatement, runner: PlanRunner): Promise<Omit<Landed, 'rejected'>> {
  const { call, timeoutMs } = runner;
  const statements: FlushedStatement[] = [];
  const run = async (planned: PlannedStatement): Promise<readonly number[]> => {
    const outcome = await runStatement(trx, call, planned, timeoutMs);
    statements.push({ op: planned.op, table: planned.spec.table, rows: planned.rows.length, affected: outcome.affected });
    return outcome.conflicts;
  };
  const rejected = await run(statement);
  if (rejected.length === 0) return { statements, conflicts: [] };
  const resolved = resolveConflicts(statement, rejected, runner);
  for (const extra of resolved.statements) {
    if ((await run(extra)).length > 0) throw new Error(`flush of call ${call.callSid}: a row that ${extra.op}'s conflict policy landed conflicted too`);
  }
  return { statements, conflicts: resolved.conflicts };
}

/**
 * The statements that land what a conflict policy decided for rejected
 * rows: the `instead` rows (same idempotency key, the plain insert: a
 * second conflict fails the flush), then the `also` rows of other
 * operations, the tenant forced on each.
 */
function resolveConflicts(
  statement: PlannedStatement,
  rejected: readonly number[],
  runner: PlanRunner,
): { statements: PlannedStatement[]; conflicts: FlushConflict[] } {
  const { call, operations, schema } = runner;
  const { spec, op } = statement;
  const idem = spec.idempotencyColumn!;
  const instead: Array<{ row: Row; sources: readonly number[] }> = [];
  const also = new Map<string, Array<{ row: Row; sources: readonly number[] }>>();
  const conflicts: FlushConflict[] = [];
  for (const index of rejected) {
    const row = statement.rows[index]!;
    const sources = statement.sources[index]!;
    const key = String(row[idem]);
    conflicts.push({ op, idempotencyKey: key });
    const resolution = spec.onConflict!(row, call);
    if (resolution.instead) instead.push({ row: boundRow(resolution.instead, spec, call, { [idem]: key }), sources });
    (resolution.also ?? []).forEach(({ op: otherOp, row: otherRow }, n) => {
      const other = Object.hasOwn(operations, otherOp) ? operations[otherOp] : undefined;
      if (!other) throw new Error(`${op}'s conflict policy names no declared operation ${JSON.stringify(otherOp)}`);
      const extraKey = other.kind === 'insert' ? { [other.idempotencyColumn!]: `${key}:${otherOp}:${n + 1}` } : {};
      also.set(otherOp, [...(also.get(otherOp) ?? []), { row: boundRow(otherRow, other, call, extraKey), sources }]);
    });
  }
  const statements = [
    ...statementsOf(op, { ...spec, onConflict: undefined }, instead),
    ...[...also].flatMap(([otherOp, rows]) => statementsOf(otherOp, operations[otherOp]!, rows, schema?.conflictTargets[otherOp])),
  ];
  return { statements, conflicts };
}

/** A row a policy returned: undefined columns dropped, the tenant (and key) forced. */
function boundRow(row: Record<string, JsonValue | undefined>, spec: WriteOperationSpec, call: CallHeader, fixed: Row): Row {
  const bound: Record<string, JsonValue> = {};
  for (const [column, value] of Object.entries(row)) if (value !== undefined) bound[column] = value;
  return { ...bound, ...fixed, [spec.tenantColumn]: call.tenantId };
}
