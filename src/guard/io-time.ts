import { metrics, type Counter, type Histogram, type Span } from '@opentelemetry/api';
import { Attributes, Events, INSTRUMENTATION_NAME, Metrics } from './attributes.js';
import type { IoKind } from './io-span.js';

type TimeByKind = Partial<Record<IoKind, number>>;

let budgetCounter: Counter | undefined;
let durationHistogram: Histogram | undefined;

/** `live_call.io.duration` (ms) {live_call.io.kind, call.phase}: every I/O span under a call. */
export function ioDurationHistogram(): Histogram {
  durationHistogram ??= metrics.getMeter(INSTRUMENTATION_NAME).createHistogram(Metrics.IO_DURATION, {
    description: 'Duration of outbound I/O under a call, by kind and call phase',
    unit: 'ms',
  });
  return durationHistogram;
}

function budgetExceededCounter(): Counter {
  budgetCounter ??= metrics.getMeter(INSTRUMENTATION_NAME).createCounter(Metrics.IO_BUDGET_EXCEEDED, {
    description: 'Live calls (or their turns) whose live-path I/O time went over the app-declared ioBudgetMs',
  });
  return budgetCounter;
}

/** `{ 'live_call.io.time_ms.http': 12.5, ... }` */
function timeAttributes(time: TimeByKind): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [kind, ms] of Object.entries(time)) out[`${Attributes.IO_TIME_MS}.${kind}`] = Math.round(ms * 1000) / 1000;
  return out;
}

/**
 * A live call's I/O time on its live path, by kind, for the call and (when
 * the agent marks turns with `live.startTurn()`) for each turn; and the
 * app's `ioBudgetMs`, checked per turn when turns are marked, else per call.
 * Allowed I/O (allowlisted hosts, the escape hatch) is timed but not charged
 * to the budget. A request is charged when it ends.
 */
export class LiveIoTime {
  private readonly call: TimeByKind = {};
  private turn: TimeByKind | undefined;
  private turnNumber = 0;
  private charged = 0;
  private overBudget = false;

  constructor(
    private readonly span: Span,
    private readonly budgetMs: number | undefined,
  ) {}

  record(kind: IoKind, ms: number, allowed: boolean): void {
    this.call[kind] = (this.call[kind] ?? 0) + ms;
    if (this.turn) this.turn[kind] = (this.turn[kind] ?? 0) + ms;
    if (allowed || this.budgetMs === undefined) return;
    this.charged += ms;
    if (this.overBudget || this.charged <= this.budgetMs) return;
    this.overBudget = true;
    budgetExceededCounter().add(1, { [Attributes.IO_BUDGET_SCOPE]: this.turn ? 'turn' : 'call' });
    if (this.span.isRecording()) {
      this.span.addEvent(Events.IO_BUDGET_EXCEEDED, {
        [Attributes.IO_BUDGET_MS]: this.budgetMs,
        [Attributes.IO_BUDGET_SPENT_MS]: Math.round(this.charged * 1000) / 1000,
        ...(this.turn ? { [Attributes.TURN_NUMBER]: this.turnNumber } : {}),
      });
    }
  }

  /**
   * Whether disallowed I/O may still run in block mode: an `ioBudgetMs` was
   * declared and the turn (or the call, without turns) has not spent it.
   * Without a budget nothing may run (block mode as such).
   */
  hasBudgetLeft(): boolean {
    return this.budgetMs !== undefined && this.charged < this.budgetMs;
  }

  /** The budget and what the turn (or call) has spent of it, in ms; undefined without a budget. */
  budget(): { budgetMs: number; spentMs: number } | undefined {
    return this.budgetMs === undefined ? undefined : { budgetMs: this.budgetMs, spentMs: Math.round(this.charged * 1000) / 1000 };
  }

  /** A new turn begins (the previous one, if any, ends with an event carrying its I/O time). Returns its number. */
  startTurn(): number {
    this.endTurn();
    this.turnNumber += 1;
    this.turn = {};
    this.charged = 0;
    this.overBudget = false;
    return this.turnNumber;
  }

  /** The call ends: the last turn's event, and the call's I/O time by kind on the live span. */
  finish(): void {
    this.endTurn();
    if (this.span.isRecording()) this.span.setAttributes(timeAttributes(this.call));
  }

  private endTurn(): void {
    if (!this.turn) return;
    if (this.span.isRecording()) this.span.addEvent(Events.TURN_IO, { [Attributes.TURN_NUMBER]: this.turnNumber, ...timeAttributes(this.turn) });
    this.turn = undefined;
  }
}
