import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { CallContextLoadError, ConfigError, StreamReplayError, UnknownTenantError } from '../errors.js';
import { DEFAULTS } from '../defaults.js';
import { Attributes, INSTRUMENTATION_NAME, SpanNames } from '../guard/attributes.js';
import { claimCtes, defaultClaimExpiry } from './stream-claims.js';
import type { CallContextSpec, StartOfCall } from './call-context-spec.js';
import { deepFreeze } from './deep-freeze.js';

export interface LoadContextOptions {
  /**
   * How long the statement may take before the load fails with a
   * {@link CallContextLoadError} (the call can go on without a context).
   * Default 500 ms (`CONTEXT_LOAD_TIMEOUT_MS`).
   */
  timeoutMs?: number;
  /**
   * Claims this stream inside the same statement (a data-modifying CTE on
   * the layer's `live_call_stream_claims`): a key claimed before makes the
   * load fail with {@link StreamReplayError}. The stream token's nonce, or
   * the stream sid. Default none. A load that times out before its
   * statement was sent (waiting for a pool connection) never sends it, so
   * it claims nothing; one whose statement was already running is
   * cancelled on the server (pg_cancel_backend), and its claim stands only
   * if the statement had finished there first.
   */
  streamKey?: string;
  /** The schema of the layer's claims table (`migrateLayer(knex, { schema })`): the claim is then schema-qualified. Default: unqualified (the connection's `search_path`). */
  claimsSchema?: string;
  /** When the claim may be forgotten (pruned): the stream token's expiry. Default a token's life from now. */
  streamKeyExpiresAt?: Date;
}

const tracer = trace.getTracer(INSTRUMENTATION_NAME);
const FOUND = '__lcg_found';
const CLAIMED = '__lcg_claimed';

/**
 * Runs the app's start-of-call statement — exactly one statement, the stream
 * claim included — inside a `call.load_context` span, and returns the frozen
 * context.
 *
 * The app's query is wrapped, not changed:
 * `[with claim as (insert … on conflict do nothing returning 1)]  -- commit without a WAL flush wait
 *  select [claimed,] q.* from (select 1) left join lateral
 *  (select true as found, app.* from (<app query>) app limit 1) q on true`
 * — one round trip, whatever the app's query is.
 *
 * @throws {UnknownTenantError} the statement found no row (no such tenant).
 * @throws {StreamReplayError} `streamKey` was claimed before (a replayed stream).
 * @throws {CallContextLoadError} the statement failed or took longer than `timeoutMs` (`cause` says why).
 */
export async function loadContext<TTenant, TContext>(
  knex: Knex,
  spec: CallContextSpec<TTenant, TContext>,
  start: StartOfCall<TTenant>,
  options: LoadContextOptions = {},
): Promise<TContext> {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.contextLoadTimeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new ConfigError(`loadContext timeoutMs must be a positive integer (received ${JSON.stringify(timeoutMs)})`);
  }
  const attributes = { [Attributes.CALL_SID]: start.callSid, [Attributes.CONVERSATION_ID]: start.callSid, [Attributes.TENANT_ID]: String(start.tenantId) };
  return tracer.startActiveSpan(SpanNames.LOAD_CONTEXT, { attributes }, async (span) => {
    try {
      let appQuery: Knex.QueryBuilder | Knex.Raw;
      try {
        appQuery = spec.query(knex, start);
      } catch (error) {
        throw new CallContextLoadError(`the start-of-call query of call ${start.callSid} could not be built: ${messageOf(error)}`, { cause: error });
      }
      // Run here, inside the active span: knex builders run when awaited.
      const row = await withDeadline(knex, (connection, remainingMs) =>
        wrapped(knex, appQuery, start, options).connection(connection).timeout(remainingMs, { cancel: true }), start.callSid, timeoutMs);
      if (options.streamKey !== undefined && Number(row?.[CLAIMED]) === 0) {
        throw new StreamReplayError(`stream of call ${start.callSid} already started once: a replay`);
      }
      if (!row || row[FOUND] !== true) throw new UnknownTenantError(`tenant ${JSON.stringify(start.tenantId)} has no row for call ${start.callSid}`);
      const { [FOUND]: _found, [CLAIMED]: _claimed, ...appRow } = row;
      return deepFreeze(spec.fromRow ? spec.fromRow(appRow, start) : (appRow as TContext));
    } catch (error) {
      const failure =
        error instanceof UnknownTenantError || error instanceof CallContextLoadError || error instanceof StreamReplayError
          ? error
          : new CallContextLoadError(`loading the context of call ${start.callSid} failed: ${messageOf(error)}`, { cause: error });
      span.recordException(failure);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      throw failure;
    } finally {
      span.end();
    }
  });
}

function wrapped(
  knex: Knex,
  appQuery: Knex.QueryBuilder | Knex.Raw,
  start: StartOfCall<unknown>,
  options: Pick<LoadContextOptions, 'streamKey' | 'streamKeyExpiresAt' | 'claimsSchema'>,
): Knex.Raw {
  const { streamKey } = options;
  const from = `from (select 1) as "__lcg_one" left join lateral (select true as ??, app.* from (?) as app limit 1) as q on true`;
  if (streamKey === undefined) return knex.raw(`select q.* ${from}`, [FOUND, appQuery]);
  // The claim's commit does not wait for a WAL flush (see claimCtes): the statement costs a read.
  const expiresAt = options.streamKeyExpiresAt ?? defaultClaimExpiry();
  const claim = claimCtes(knex, { key: streamKey, callSid: start.callSid, tenantId: String(start.tenantId), expiresAt }, options.claimsSchema);
  return knex.raw(`? select (select count(*) from "__lcg_claim")::int as ??, q.* ${from}`, [claim, CLAIMED, FOUND, appQuery]);
}

/**
 * Runs the statement on a connection taken from the pool within
 * `timeoutMs`, and gives up on it when the deadline passes.
 *
 * The connection is acquired here, under the same deadline: a load that
 * times out while the pool is busy must not leave its statement queued, to
 * run (and claim its stream) whenever a connection frees up. A connection
 * that comes too late goes back to the pool unused. Knex's own timeout
 * cancels a statement still running at the deadline; it waits for its
 * cancel query, which needs a new connection (that could hang when the
 * server is unreachable), so the deadline here waits for nothing.
 */
async function withDeadline(
  knex: Knex,
  statement: (connection: unknown, remainingMs: number) => Knex.Raw,
  callSid: string,
  timeoutMs: number,
): Promise<Record<string, unknown> | undefined> {
  const deadlineAt = Date.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(callSid, timeoutMs)), timeoutMs);
    timer.unref();
  });
  const client = knex.client as { acquireConnection(): Promise<unknown>; releaseConnection(connection: unknown): Promise<unknown> };
  const release = (connection: unknown): void => {
    client.releaseConnection(connection).catch(() => {});
  };
  try {
    const acquiring = client.acquireConnection();
    let connection: unknown;
    try {
      // Promise.race subscribes to both: a late rejection is handled.
      connection = await Promise.race([acquiring, deadline]);
    } catch (error) {
      acquiring.then(release, () => {});
      throw error;
    }
    const remainingMs = deadlineAt - Date.now();
    if (remainingMs < 1) {
      release(connection);
      throw timedOut(callSid, timeoutMs);
    }
    let running: Promise<{ rows: Array<Record<string, unknown>> }>;
    try {
      running = statement(connection, remainingMs).then((value: unknown) => value as { rows: Array<Record<string, unknown>> });
    } catch (error) {
      release(connection);
      throw error;
    }
    // The connection goes back once the statement is over (knex cancels it at the deadline), never while it runs.
    running.then(() => release(connection), () => release(connection));
    const result = await Promise.race([running, deadline]);
    return result.rows[0];
  } catch (error) {
    if ((error as Error | undefined)?.name === 'KnexTimeoutError') throw timedOut(callSid, timeoutMs, error);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function timedOut(callSid: string, timeoutMs: number, cause?: unknown): CallContextLoadError {
  return new CallContextLoadError(`loading the context of call ${callSid} took longer than ${timeoutMs} ms`, cause === undefined ? undefined : { cause });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
