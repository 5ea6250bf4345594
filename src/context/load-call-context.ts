import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { CallContextLoadError, ConfigError, StreamReplayError, UnknownBusinessError } from '../errors.js';
import { callContextFromRow, type CallContext, type CallContextRow } from './call-context.js';
import { callIdsSchema, type CallIds, type CallIdsInput } from './call-ids.js';
import { describeZodError } from '../zod-error.js';

export interface LoadCallContextOptions {
  /**
   * How long the query may take before the load fails with a
   * {@link CallContextLoadError} (and the server-side query is cancelled).
   * Default 500 ms (`CONTEXT_LOAD_TIMEOUT_MS`).
   */
  timeoutMs?: number;
  /**
   * Claims this stream inside the same statement (a data-modifying CTE on
   * `stream_claims`): a key claimed before makes the load fail with
   * {@link StreamReplayError}. The stream token's nonce, or the stream sid.
   * Default none (nothing claimed). A load that times out claims nothing.
   */
  streamKey?: string;
}

const DEFAULT_TIMEOUT_MS = 500;
const tracer = trace.getTracer('live-call-guard');

const COLUMNS = [
  'b.id as business_id',
  'b.name as business_name',
  's.tenant_id as settings_tenant_id',
  's.opening_hours_json',
  's.working_hours',
  's.greeting',
  's.prompt',
  's.timezone',
  'c.id as call_log_id',
  'c.lead_id as call_log_lead_id',
  'c.direction as call_direction',
  'c.status as call_status',
  'l.id as lead_id',
  'l.full_name',
  'l.first_name',
  'l.customer_name',
  'l.phone',
  'l.gender',
];

/**
 * The one statement: the business, LEFT JOINed to its settings, to the call
 * log with this sid *of this business*, and to the lead given (outbound) or
 * the call log's lead (inbound) *of this business*. Another business's
 * call sid or lead id therefore matches nothing.
 */
function callContextQuery(knex: Knex, ids: CallIds, streamKey: string | undefined): Knex.QueryBuilder {
  const base = streamKey === undefined ? knex.queryBuilder() : claimStream(knex, ids, streamKey);
  return base
    .from('businesses as b')
    .leftJoin('business_settings as s', 's.tenant_id', 'b.id')
    .leftJoin('call_logs as c', (join) => {
      join.on('c.call_sid', '=', knex.raw('?', [ids.callSid])).andOn('c.business_id', '=', 'b.id');
    })
    .leftJoin('leads as l', (join) => {
      join.on('l.tenant_id', '=', 'b.id').andOn('l.id', '=', knex.raw('coalesce(?::integer, c.lead_id)', [ids.leadId]));
    })
    .where('b.id', ids.businessId)
    .first(streamKey === undefined ? COLUMNS : [...COLUMNS, knex.raw('(select count(*) from claim)::int as stream_claimed')]);
}

/** `with claim as (insert … on conflict do nothing returning 1)`: 1 row when this stream is new, 0 for a replay. */
function claimStream(knex: Knex, ids: CallIds, streamKey: string): Knex.QueryBuilder {
  return knex.queryBuilder().with(
    'claim',
    knex.raw('insert into stream_claims (stream_key, call_sid, business_id) values (?, ?, ?) on conflict (stream_key) do nothing returning 1', [
      streamKey,
      ids.callSid,
      ids.businessId,
    ]),
  );
}

/**
 * Loads everything a call reads, with exactly one SQL statement, inside a
 * `call.load_context` span. Call it before the live part of the call.
 *
 * @throws {UnknownBusinessError} the business does not exist.
 * @throws {StreamReplayError} `streamKey` was claimed before (a replayed stream).
 * @throws {CallContextLoadError} the ids are invalid, or the query failed or
 *   took longer than `timeoutMs` (`cause` says why): the call can go on
 *   without CRM data.
 */
export async function loadCallContext(
  knex: Knex,
  input: CallIdsInput,
  options: LoadCallContextOptions = {},
): Promise<CallContext> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new ConfigError(`loadCallContext timeoutMs must be a positive integer (received ${JSON.stringify(timeoutMs)})`);
  }
  const parsed = callIdsSchema.safeParse(input);
  if (!parsed.success) {
    throw new CallContextLoadError(`invalid call ids: ${describeZodError(parsed.error)}`, { cause: parsed.error });
  }
  const ids = parsed.data;
  const attributes = { 'call.sid': ids.callSid, 'business.id': ids.businessId };
  return tracer.startActiveSpan('call.load_context', { attributes }, async (span) => {
    try {
      // Awaited here, inside the active span: knex builders run when awaited.
      const row = await withDeadline(callContextQuery(knex, ids, options.streamKey).timeout(timeoutMs, { cancel: true }), ids, timeoutMs);
      if (!row) throw new UnknownBusinessError(`business ${ids.businessId} does not exist (call ${ids.callSid})`);
      if (options.streamKey !== undefined && row.stream_claimed === 0) {
        throw new StreamReplayError(`stream of call ${ids.callSid} already started once: a replay`);
      }
      return callContextFromRow(ids.callSid, row);
    } catch (error) {
      const failure =
        error instanceof UnknownBusinessError || error instanceof CallContextLoadError || error instanceof StreamReplayError
          ? error
          : new CallContextLoadError(`loading the context of call ${ids.callSid} failed: ${messageOf(error)}`, {
              cause: error,
            });
      span.recordException(failure);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      throw failure;
    } finally {
      span.end();
    }
  });
}

/**
 * Knex's own timeout waits for its cancel query, which needs a new
 * connection: if the server is unreachable that could hang. The deadline
 * here does not wait for anything.
 */
async function withDeadline(
  query: Knex.QueryBuilder,
  ids: CallIds,
  timeoutMs: number,
): Promise<CallContextRow | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(ids, timeoutMs)), timeoutMs);
    timer.unref();
  });
  try {
    // Promise.race subscribes to both: a late rejection of the query is handled.
    return (await Promise.race([query.then((row: unknown) => row as CallContextRow | undefined), deadline])) ?? undefined;
  } catch (error) {
    if ((error as Error | undefined)?.name === 'KnexTimeoutError') throw timedOut(ids, timeoutMs, error);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function timedOut(ids: CallIds, timeoutMs: number, cause?: unknown): CallContextLoadError {
  return new CallContextLoadError(
    `loading the context of call ${ids.callSid} took longer than ${timeoutMs} ms`,
    cause === undefined ? undefined : { cause },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
