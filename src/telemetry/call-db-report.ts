import { context, type Context, type Span } from '@opentelemetry/api';
import { Attributes } from './attributes.js';
import { getCallScope, withCallScope, type CallScope } from './call-scope.js';
import { startNow } from './start-now.js';

/** Where in a call a query ran. `other`: under the call, outside the three phases. */
export type CallPhase = 'load' | 'live' | 'flush' | 'other';

export interface CallDbFigures {
  queries: Record<CallPhase, number>;
  /** Total time of the call's database statements, milliseconds. */
  timeMs: number;
}


/**
 * Counts a call's database statements and their time by phase. The guard
 * processor feeds it from the pg spans under the call; the call's root span
 * carries the figures when it ends.
 */
export class CallDbReport {
  private readonly queries: Record<CallPhase, number> = { load: 0, live: 0, flush: 0, other: 0 };
  private timeMs = 0;

  /** One statement of `durationMs` in `phase`. */
  record(phase: CallPhase, durationMs: number): void {
    this.queries[phase] += 1;
    this.timeMs += durationMs;
  }

  figures(): CallDbFigures {
    return { queries: { ...this.queries }, timeMs: Math.round(this.timeMs * 1000) / 1000 };
  }

  /** Sets `call.db.queries.{load,live,flush}` and `call.db.time_ms` on `span`. */
  applyTo(span: Span): void {
    const { queries, timeMs } = this.figures();
    span.setAttributes({
      [Attributes.QUERIES_LOAD]: queries.load,
      [Attributes.QUERIES_LIVE]: queries.live,
      [Attributes.QUERIES_FLUSH]: queries.flush,
      [Attributes.DB_TIME_MS]: timeMs,
    });
  }
}

/** `ctx` with `report` attached: statements run under it are counted. */
export function withCallDbReport(report: CallDbReport, ctx: Context = context.active()): Context {
  return withCallScope(ctx, { report });
}

export function getCallDbReport(ctx: Context): CallDbReport | undefined {
  return getCallScope(ctx)?.report;
}

/** Runs `fn` in the `load` or `flush` phase of the current call (a lazy Knex builder is started in it). */
export function runInCallPhase<T>(phase: 'load' | 'flush', fn: () => T): T {
  return context.with(withCallScope(context.active(), { phase }), () => startNow(fn()));
}

/** The phase of a call scope: live inside a live call, else the phase set, else other. */
export function phaseOf(scope: CallScope | undefined): CallPhase {
  if (scope?.live) return 'live';
  return scope?.phase ?? 'other';
}
