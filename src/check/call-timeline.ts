import { Attributes as A, Events, SpanNames } from '../guard/attributes.js';
import { isConnectionSpan, isDatabaseClientSpan, isLiveCallSpan, queryTextOf } from '../guard/io-span.js';
import type { SpanRecord } from './span-record.js';
import type { TraceViolation } from './trace-checker.js';

export type Phase = 'load' | 'live' | 'flush';

/** One phase span of a call (`call.load_context`, `in_live_call`, `call.flush`), in ms from the call's start. */
export interface PhaseBand {
  phase: Phase;
  spanId: string;
  startMs: number;
  endMs: number;
}

/** One database statement of a call, in ms from the call's start. */
export interface Statement {
  /** Undefined for a violation seen only as an event (a blocked query: its span never ended). */
  spanId: string | undefined;
  name: string;
  query: string | undefined;
  /** The phase it ran in: by its phase ancestor, else by time against the live band; undefined if neither tells. */
  phase: Phase | undefined;
  startMs: number | undefined;
  durationMs: number | undefined;
  /** The checker's verdict on it, when it is a violation. */
  violation: TraceViolation | undefined;
}

/** The per-call DB report the root `media_stream` span carries when it ends. */
export interface CallDbFigures {
  queriesLoad: number | undefined;
  queriesLive: number | undefined;
  queriesFlush: number | undefined;
  timeMs: number | undefined;
}

/** One trace drawn as a call: its phases and its statements on one time axis. */
export interface CallTimeline {
  traceId: string;
  callSid: string | undefined;
  /** Unix ms of the axis' zero (the earliest start seen); undefined when the input has no times. */
  originMs: number | undefined;
  /** The axis' length in ms. */
  durationMs: number;
  phases: PhaseBand[];
  /** Sorted by start, at most `maxStatements`. */
  statements: Statement[];
  /** Statements past `maxStatements`, counted, not drawn. */
  statementsLeftOut: number;
  violations: TraceViolation[];
  figures: CallDbFigures | undefined;
}

interface KeptSpan {
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: 'root' | Phase | 'statement';
  query: string | undefined;
  startMs: number | undefined;
  endMs: number | undefined;
  attributes?: SpanRecord['attributes'];
}

interface TraceDetail {
  /** span id → parent span id, for every span of the trace (bounded by `maxSpansPerTrace`). */
  parents: Map<string, string | undefined>;
  kept: KeptSpan[];
  /** Violation events: violating span id → when. */
  eventTimes: Map<string, number>;
  callSid: string | undefined;
}

/** What `CallTimelineCollector` keeps. */
export interface CallTimelineOptions {
  /** Statements drawn per call; the rest are counted. Default 300. */
  maxStatements?: number;
  /** Spans of one trace remembered (for ancestry and phases); past this, later spans are ignored. Default 20000. */
  maxSpansPerTrace?: number;
}

/**
 * Gathers, from a second read of the input, the spans of a chosen set of
 * traces (the calls the HTML report draws in full) and builds their
 * timelines. Only those traces are kept, and only their phase, root and
 * statement spans in full: memory is bounded by the selection, not the input.
 */
export class CallTimelineCollector {
  private readonly traces = new Map<string, TraceDetail>();
  private readonly maxStatements: number;
  private readonly maxSpansPerTrace: number;

  constructor(
    traceIds: Iterable<string>,
    private readonly violations: ReadonlyMap<string, TraceViolation[]>,
    options: CallTimelineOptions = {},
  ) {
    this.maxStatements = options.maxStatements ?? 300;
    this.maxSpansPerTrace = options.maxSpansPerTrace ?? 20_000;
    for (const id of traceIds) this.traces.set(id, { parents: new Map(), kept: [], eventTimes: new Map(), callSid: undefined });
  }

  add(span: SpanRecord): void {
    const trace = this.traces.get(span.traceId);
    if (!trace || trace.parents.has(span.spanId) || trace.parents.size >= this.maxSpansPerTrace) return;
    trace.parents.set(span.spanId, span.parentSpanId);
    const kind = kindOf(span);
    if (kind === undefined) return;
    const callSid = span.attributes[A.CALL_SID];
    if (typeof callSid === 'string' && (trace.callSid === undefined || kind === 'live')) trace.callSid = callSid;
    if (kind === 'live') {
      for (const event of span.events) {
        const id = event.attributes[A.VIOLATING_SPAN_ID];
        if (event.name === Events.DB_VIOLATION && typeof id === 'string' && event.timeMs !== undefined) trace.eventTimes.set(id, event.timeMs);
      }
    }
    trace.kept.push({
      spanId: span.spanId,
      parentSpanId: span.parentSpanId,
      name: span.name,
      kind,
      query: kind === 'statement' ? queryTextOf(span.attributes) : undefined,
      startMs: span.startMs,
      endMs: span.endMs,
      ...(kind === 'root' ? { attributes: span.attributes } : {}),
    });
  }

  /** The timelines, in the order of the trace ids given. */
  timelines(): CallTimeline[] {
    return [...this.traces].map(([traceId, trace]) => this.build(traceId, trace));
  }

  private build(traceId: string, trace: TraceDetail): CallTimeline {
    const violations = this.violations.get(traceId) ?? [];
    const starts = trace.kept.map((s) => s.startMs).filter((t): t is number => t !== undefined);
    const ends = trace.kept.map((s) => s.endMs ?? s.startMs).filter((t): t is number => t !== undefined);
    const originMs = starts.length > 0 ? Math.min(...starts) : undefined;
    const at = (t: number | undefined): number | undefined => (t === undefined || originMs === undefined ? undefined : t - originMs);
    const durationMs = originMs === undefined ? 0 : Math.max(0, Math.max(...ends) - originMs);

    const phaseOf = new Map<string, Phase>();
    const phases: PhaseBand[] = [];
    for (const span of trace.kept) {
      if (span.kind !== 'load' && span.kind !== 'live' && span.kind !== 'flush') continue;
      phaseOf.set(span.spanId, span.kind);
      const startMs = at(span.startMs);
      if (startMs !== undefined) phases.push({ phase: span.kind, spanId: span.spanId, startMs, endMs: at(span.endMs) ?? startMs });
    }
    const live = phases.find((p) => p.phase === 'live');

    const bySpan = new Map(violations.filter((v) => v.spanId).map((v) => [v.spanId!, v]));
    const statements: Statement[] = [];
    for (const span of trace.kept) {
      if (span.kind !== 'statement') continue;
      const startMs = at(span.startMs);
      const endMs = at(span.endMs);
      const violation = bySpan.get(span.spanId);
      bySpan.delete(span.spanId);
      statements.push({
        spanId: span.spanId,
        name: span.name,
        query: span.query ?? violation?.query,
        phase: ancestorPhase(span.spanId, trace.parents, phaseOf) ?? phaseByTime(startMs, live),
        startMs,
        durationMs: startMs === undefined || endMs === undefined ? undefined : Math.max(0, endMs - startMs),
        violation,
      });
    }
    // Violations without an exported span (blocked queries), at their event's time.
    for (const violation of violations) {
      if (violation.spanId && !bySpan.has(violation.spanId)) continue;
      const startMs = at(violation.spanId ? trace.eventTimes.get(violation.spanId) : undefined) ?? live?.startMs;
      statements.push({ spanId: undefined, name: violation.spanName, query: violation.query, phase: 'live', startMs, durationMs: undefined, violation });
    }
    statements.sort((a, b) => (a.startMs ?? Infinity) - (b.startMs ?? Infinity));
    const drawn = keepViolationsFirst(statements, this.maxStatements);

    return {
      traceId,
      callSid: trace.callSid ?? violations.find((v) => v.callSid)?.callSid,
      originMs,
      durationMs,
      phases: phases.sort((a, b) => a.startMs - b.startMs),
      statements: drawn,
      statementsLeftOut: statements.length - drawn.length,
      violations,
      figures: figuresOf(trace.kept.find((s) => s.kind === 'root')?.attributes),
    };
  }
}

function kindOf(span: SpanRecord): KeptSpan['kind'] | undefined {
  if (isLiveCallSpan(span)) return 'live';
  if (span.name === SpanNames.LOAD_CONTEXT || span.name === SpanNames.CLAIM_STREAM) return 'load';
  if (span.name === SpanNames.FLUSH) return 'flush';
  if (isDatabaseClientSpan(span)) return isConnectionSpan(span) ? undefined : 'statement';
  if (span.parentSpanId === undefined || span.name === SpanNames.MEDIA_STREAM) return 'root';
  return undefined;
}

function ancestorPhase(spanId: string, parents: Map<string, string | undefined>, phaseOf: Map<string, Phase>): Phase | undefined {
  let id = parents.get(spanId);
  for (let depth = 0; id !== undefined && depth < 64; depth += 1) {
    const phase = phaseOf.get(id);
    if (phase) return phase;
    id = parents.get(id);
  }
  return undefined;
}

function phaseByTime(startMs: number | undefined, live: PhaseBand | undefined): Phase | undefined {
  if (startMs === undefined || live === undefined) return undefined;
  if (startMs < live.startMs) return 'load';
  return startMs <= live.endMs ? 'live' : 'flush';
}

/** At most `max` statements, every violation among them first, in time order. */
function keepViolationsFirst(statements: Statement[], max: number): Statement[] {
  if (statements.length <= max) return statements;
  const keep = new Set(statements.filter((s) => s.violation).slice(0, max));
  for (const s of statements) {
    if (keep.size >= max) break;
    keep.add(s);
  }
  return statements.filter((s) => keep.has(s));
}

function figuresOf(attributes: SpanRecord['attributes'] | undefined): CallDbFigures | undefined {
  if (!attributes) return undefined;
  const num = (key: string): number | undefined => (typeof attributes[key] === 'number' ? (attributes[key] as number) : undefined);
  const figures = {
    queriesLoad: num(A.QUERIES_LOAD),
    queriesLive: num(A.QUERIES_LIVE),
    queriesFlush: num(A.QUERIES_FLUSH),
    timeMs: num(A.DB_TIME_MS),
  };
  return Object.values(figures).some((v) => v !== undefined) ? figures : undefined;
}
