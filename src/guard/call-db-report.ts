import { context, type Context, type Span } from '@opentelemetry/api';
import { Attributes } from './attributes.js';
import { withCallScope, type CallPhase, type CallScope, type StatementRecorder } from './call-scope.js';
import { startNow } from './start-now.js';

export type { CallPhase };

export interface CallDbFigures {
  queries: Record<CallPhase, number>;
  /** Commits: COMMIT statements, and writes outside a transaction (each commits on its own). */
  commits: Record<CallPhase, number>;
  /** Time of the statements by phase, milliseconds. */
  timeMsByPhase: Record<CallPhase, number>;
  /** Total time of the call's database statements, milliseconds. */
  timeMs: number;
}

const zero = (): Record<CallPhase, number> => ({ load: 0, live: 0, flush: 0, other: 0 });
const WRITE = /^\s*(insert|update|delete|merge)\b/i;
/** A `with …` statement holding a data-modifying clause (the layer's own start statement claims its stream so). */
const WRITING_WITH = /^\s*with\b[\s\S]*?\b(insert\s+into|delete\s+from|merge\s+into|update\s+(only\s+)?[^\s(]+(\s+(as\s+)?[^\s(]+)?\s+set)\b/i;
const BEGIN = /^\s*(begin|start transaction)\b/i;
const END = /^\s*(commit|rollback|end)\b/i;

/**
 * Counts a call's database statements, commits and their time by phase. The
 * guard processor feeds it from the pg spans under the call; the call's root
 * span carries the figures when it ends.
 */
export class CallDbReport implements StatementRecorder {
  private readonly queries = zero();
  private readonly commits = zero();
  private readonly time = zero();
  private inTransaction = false;

  /** One statement (its text, when known) of `durationMs` in `phase`. */
  record(phase: CallPhase, durationMs: number, statement = ''): void {
    this.queries[phase] += 1;
    this.time[phase] += durationMs;
    if (BEGIN.test(statement)) this.inTransaction = true;
    else if (END.test(statement)) {
      if (/^\s*(commit|end)\b/i.test(statement)) this.commits[phase] += 1;
      this.inTransaction = false;
    } else if (!this.inTransaction && (WRITE.test(statement) || WRITING_WITH.test(statement))) this.commits[phase] += 1;
  }

  figures(): CallDbFigures {
    const round = (ms: number): number => Math.round(ms * 1000) / 1000;
    const timeMsByPhase = { load: round(this.time.load), live: round(this.time.live), flush: round(this.time.flush), other: round(this.time.other) };
    const timeMs = round(this.time.load + this.time.live + this.time.flush + this.time.other);
    return { queries: { ...this.queries }, commits: { ...this.commits }, timeMsByPhase, timeMs };
  }

  /**
   * Sets `call.db.queries.{load,live,flush}`, `call.db.commits.{load,live,flush}`,
   * `call.db.time_ms` and `call.db.time_ms.{load,live,flush}` on `span`.
   */
  applyTo(span: Span): void {
    const { queries, commits, timeMs, timeMsByPhase } = this.figures();
    span.setAttributes({
      [Attributes.QUERIES_LOAD]: queries.load,
      [Attributes.QUERIES_LIVE]: queries.live,
      [Attributes.QUERIES_FLUSH]: queries.flush,
      [Attributes.COMMITS_LOAD]: commits.load,
      [Attributes.COMMITS_LIVE]: commits.live,
      [Attributes.COMMITS_FLUSH]: commits.flush,
      [Attributes.DB_TIME_MS]: timeMs,
      [`${Attributes.DB_TIME_MS}.load`]: timeMsByPhase.load,
      [`${Attributes.DB_TIME_MS}.live`]: timeMsByPhase.live,
      [`${Attributes.DB_TIME_MS}.flush`]: timeMsByPhase.flush,
    });
  }
}

/** `ctx` with `report` attached: statements run under it are counted. */
export function withCallDbReport(report: CallDbReport, ctx: Context = context.active()): Context {
  return withCallScope(ctx, { report });
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
