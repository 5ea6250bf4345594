import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { TenantMismatchError } from '../errors.js';
import { isEmptyPlan, planFlush, type FlushPlan } from './flush-plan.js';
import type { CallHeader } from './journal-file.js';
import type { WriteBuffer } from './write-buffer.js';
import type { Flusher } from './flusher.js';

export interface FlushOptions {
  /** Longest a statement of the flush may run before it is cancelled (a transient failure). Default 10 000 ms. */
  statementTimeoutMs?: number;
  /** Where a failure to mark the journal after a commit is logged (the commit stands). Default: not logged. */
  logger?: Logger;
}

export interface FlushResult {
  readonly callSid: string;
  /** Operations in the buffer. */
  readonly writes: number;
  /** Tables written, in order: one statement each, between BEGIN and COMMIT. */
  readonly tables: readonly string[];
  /** Appointments this flush inserted (0 for those an earlier flush already did). */
  readonly appointmentsInserted: number;
}

const tracer = trace.getTracer('live-call-guard');

/**
 * Writes a call's buffered operations in ONE transaction: BEGIN, at most one
 * statement per table (leads, appointments, call_sessions, call_logs),
 * COMMIT; inside a `call.flush` span. Closes the buffer first; marks its
 * journal flushed after the commit.
 *
 * Idempotent: appointments carry their idempotency keys (ON CONFLICT DO
 * NOTHING), the other statements set values, so a second flush of the same
 * buffer (or a replay after a crash) changes nothing.
 *
 * One attempt: it rejects on any failure and the buffer's journal file
 * stays. {@link Flusher.flush} is the durable path (retries, dead letters);
 * a journal left by a failed plain flush is replayed once this process is
 * gone.
 *
 * Tenant-bound: every statement is bound to the call's business; a lead,
 * session or call log of another business is never changed (the flush
 * fails with {@link TenantMismatchError}; composite foreign keys reject an
 * appointment for another business's lead).
 */
export async function flush(knex: Knex, buffer: WriteBuffer, options: FlushOptions = {}): Promise<FlushResult> {
  buffer.close();
  const { call } = buffer;
  const plan = planFlush(buffer.writes());
  const timeoutMs = options.statementTimeoutMs ?? 10_000;
  const attributes = { 'call.sid': call.callSid, 'business.id': call.businessId, 'call.writes': buffer.size };
  const result = await tracer.startActiveSpan('call.flush', { attributes }, async (span) => {
    try {
      if (isEmptyPlan(plan)) return { callSid: call.callSid, writes: 0, tables: [], appointmentsInserted: 0 };
      // Awaited inside the active span: the transaction's queries are its children.
      const written = await knex.transaction((trx) => writePlan(trx, call, plan, timeoutMs, buffer.size));
      span.setAttribute('call.flush.tables', written.tables.length);
      return written;
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

async function writePlan(
  trx: Knex.Transaction,
  call: CallHeader,
  plan: FlushPlan,
  timeoutMs: number,
  writes: number,
): Promise<FlushResult> {
  const tables: string[] = [];
  const timed = <T extends Knex.QueryBuilder | Knex.Raw>(query: T) => query.timeout(timeoutMs, { cancel: true });
  const mismatch = (what: string) =>
    new TenantMismatchError(`flush of call ${call.callSid}: ${what} is not one of business ${call.businessId}'s`);

  if (plan.lead) {
    const columns = Object.keys(plan.lead);
    const values = Object.values(plan.lead);
    // updated_at moves only when a value changes: a second flush changes nothing.
    const changed = `row(${columns.map((c) => `"${c}"`).join(', ')}) is distinct from row(${columns.map(() => '?::text').join(', ')})`;
    const rows = await timed(
      trx('leads')
        .where({ id: call.leadId, tenant_id: call.businessId })
        .update({ ...plan.lead, updated_at: trx.raw(`case when ${changed} then now() else updated_at end`, values) })
        .returning('id'),
    );
    if ((rows as unknown[]).length === 0) throw mismatch(`lead ${call.leadId}`);
    tables.push('leads');
  }

  let appointmentsInserted = 0;
  if (plan.appointments.length > 0) {
    const rows = plan.appointments.map((a) => ({
      business_id: call.businessId,
      lead_id: call.leadId,
      call_sid: call.callSid,
      starts_at: a.startsAt,
      ends_at: a.endsAt,
      title: a.title,
      idempotency_key: a.idempotencyKey,
    }));
    const inserted = await timed(trx('appointments').insert(rows).onConflict('idempotency_key').ignore().returning('id'));
    appointmentsInserted = (inserted as unknown[]).length;
    tables.push('appointments');
  }

  if (plan.session) {
    const { state, summary } = plan.session;
    const setSummary = summary !== undefined;
    const newSummary = 'case when ?::boolean then excluded.summary else s.summary end';
    const result = await timed(
      trx.raw(
        `insert into call_sessions as s (call_sid, business_id, lead_id, state, summary)
         values (?, ?, ?, ?::jsonb, ?)
         on conflict (call_sid) do update set
           state = s.state || excluded.state,
           summary = ${newSummary},
           lead_id = coalesce(s.lead_id, excluded.lead_id),
           updated_at = case when row(s.state || excluded.state, ${newSummary}, coalesce(s.lead_id, excluded.lead_id))
                                  is distinct from row(s.state, s.summary, s.lead_id)
                             then now() else s.updated_at end
         where s.business_id = excluded.business_id
         returning call_sid`,
        [call.callSid, call.businessId, call.leadId, JSON.stringify(state), summary ?? null, setSummary, setSummary],
      ),
    );
    if ((result as { rows: unknown[] }).rows.length === 0) throw mismatch(`call session ${call.callSid}`);
    tables.push('call_sessions');
  }

  if (plan.outcome) {
    const { status, durationSeconds, endedAt } = plan.outcome;
    const startedAt = new Date(Date.parse(endedAt) - durationSeconds * 1000).toISOString();
    const result = await timed(
      trx.raw(
        `insert into call_logs as c (call_sid, business_id, lead_id, direction, status, duration_seconds, started_at, ended_at)
         values (?, ?, ?, ?, ?, ?, ?::timestamptz, ?::timestamptz)
         on conflict (call_sid) do update set
           status = excluded.status,
           duration_seconds = excluded.duration_seconds,
           ended_at = excluded.ended_at,
           lead_id = coalesce(c.lead_id, excluded.lead_id)
         where c.business_id = excluded.business_id
         returning id`,
        [call.callSid, call.businessId, call.leadId, call.direction, status, durationSeconds, startedAt, endedAt],
      ),
    );
    if ((result as { rows: unknown[] }).rows.length === 0) throw mismatch(`call log ${call.callSid}`);
    tables.push('call_logs');
  }
  return { callSid: call.callSid, writes, tables, appointmentsInserted };
}
