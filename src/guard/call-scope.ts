import { createContextKey, type Context, type Span } from '@opentelemetry/api';
import type { LiveIoTime } from './io-time.js';

/** Where in a call a query ran. `other`: under the call, outside the three phases. */
export type CallPhase = 'load' | 'live' | 'flush' | 'other';

/** Identifies the call a live scope belongs to. */
export interface LiveCallInfo {
  callSid: string;
  /** The call's tenant, as the app names it. */
  tenantId: string | number;
  /**
   * The live-path I/O time (database, HTTP, Redis, ...; allowed I/O not
   * charged) a call, or each turn the agent marks, may spend. Going over it
   * is reported (span event + counter). In block mode it is also the
   * allowance: disallowed I/O runs (reported as a violation) while the turn
   * has budget left, and is blocked once it is spent. Default: none (block
   * mode blocks disallowed I/O from the first request).
   */
  ioBudgetMs?: number;
}

/**
 * A live call: while code runs in its context, any database query is a
 * violation (reported or blocked by the LiveCallGuardProcessor).
 */
export interface LiveCall extends Readonly<LiveCallInfo> {
  /** The `in_live_call` span. */
  readonly span: Span;
  /** The context to run live code in: the span active, the live key set. */
  readonly context: Context;
  /** The call's live-path I/O time by kind (per call and per turn), fed by the guard. */
  readonly ioTime: LiveIoTime;
  /** Marks the start of a turn (the previous one ends): I/O time and the budget are then also per turn. Returns its number. */
  startTurn(): number;
  /** Runs `fn` in the live call. Call it inside each event listener (e.g. each WebSocket message). */
  run<T>(fn: () => T): T;
  /** Ends the `in_live_call` span. Idempotent. */
  end(): void;
}

/** What counts a call's statements (CallDbReport). */
export interface StatementRecorder {
  record(phase: CallPhase, durationMs: number, statement?: string): void;
}

/**
 * Everything the guard needs to know about the call a context belongs to,
 * under ONE context key: a span outside any call costs the guard a single
 * lookup.
 */
export interface CallScope {
  /** Set inside a live call. */
  readonly live?: LiveCall;
  /** Set under a call whose statements are counted. */
  readonly report?: StatementRecorder;
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
