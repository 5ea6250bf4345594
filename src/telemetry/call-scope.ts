import { createContextKey, type Context } from '@opentelemetry/api';
import type { CallDbReport } from './call-db-report.js';
import type { LiveCall } from './live-call.js';

/**
 * Everything the guard needs to know about the call a context belongs to,
 * under ONE context key: a span outside any call costs the guard a single
 * lookup.
 */
export interface CallScope {
  /** Set inside a live call. */
  readonly live?: LiveCall;
  /** Set under a call whose statements are counted. */
  readonly report?: CallDbReport;
  /** The phase set by runInCallPhase. */
  readonly phase?: 'load' | 'flush';
  /** Set inside allowDatabaseDuringLiveCall: the reason. */
  readonly allowance?: string;
  /**
   * Set while a client sets up a connection it opened for a query (knex's
   * version probe, its `SET search_path`): those statements belong to the
   * query that needed the connection and are not violations of their own.
   */
  readonly connectionSetup?: boolean;
  /**
   * Where the application built or started the query that runs in this
   * context (knex: the builder's creation, the transaction's start). Its
   * stack is formatted only if the query turns out to be a violation.
   */
  readonly callSite?: Error;
  /** The text of the pg statement starting in this context (set by the client hook): the SQL of a blocked query. */
  readonly statementText?: string;
}

const CALL_SCOPE_KEY = createContextKey('live-call-guard.call-scope');

export function getCallScope(ctx: Context): CallScope | undefined {
  return ctx.getValue(CALL_SCOPE_KEY) as CallScope | undefined;
}

/** `ctx` with its call scope extended by `patch`. */
export function withCallScope(ctx: Context, patch: CallScope): Context {
  return ctx.setValue(CALL_SCOPE_KEY, { ...getCallScope(ctx), ...patch });
}
