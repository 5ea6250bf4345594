import { Attributes as A, Events } from '../attributes.js';
import { isConnectionSpan, isDatabaseClientSpan, isLiveCallSpan, queryTextOf } from '../db-span.js';
import type { SourcePosition, SpanRecord } from './span-record.js';

/** A database statement issued during a live call, found in exported traces. */
export interface TraceViolation {
  traceId: string;
  /** The call's sid: the live span's `call.sid`, or the DB span's `live_call.id` stamp. */
  callSid: string | undefined;
  /** The database span; undefined when only the live call's violation event was exported. */
  spanId: string | undefined;
  spanName: string;
  query: string | undefined;
  /** The application's call site, from the `live_call.db_violation` event. */
  stack: string | undefined;
  /** The guard rejected it (block mode). */
  blocked: boolean;
  source: SourcePosition;
}

export interface TraceCheckerOptions {
  /**
   * Traces held at once. Past it, the trace seen first is judged with the
   * spans it has (a DB span stamped `live_call.id` is still caught). Default 10,000.
   */
  maxTracesInFlight?: number;
}

/** What a trace keeps of each span: just enough to judge it. */
interface KeptSpan {
  parentSpanId: string | undefined;
  name: string;
  live: boolean;
  callSid: string | undefined;
  /** For database statement spans. */
  statement?: { query: string | undefined; stamp: string | undefined; allowed: boolean };
  violationEvents?: Array<{ spanId: string | undefined; query: string | undefined; stack: string | undefined; blocked: boolean }>;
  source: SourcePosition;
}

interface TraceState {
  spans: Map<string, KeptSpan>;
  rootSeen: boolean;
}

const MAX_ANCESTRY_DEPTH = 10_000;

/**
 * The offline form of the guard's rule, over spans read back in any order:
 * a violation is a database statement span with an `in_live_call` ancestor,
 * or one stamped `live_call.id`, or a `live_call.db_violation` event whose
 * span was not exported (a blocked query). Memory is bounded by the traces in
 * flight: a trace is judged when its root has been seen and the chunk (line,
 * document) that held it ends, or when it is pushed out, or at the end.
 */
export class TraceChecker {
  private readonly maxTracesInFlight: number;
  private readonly traces = new Map<string, TraceState>();
  /** Traces added to since the last chunk ended. */
  private readonly touched = new Set<string>();
  private readonly found: TraceViolation[] = [];
  private spanCount = 0;
  private traceCount = 0;
  private judgedEarly = 0;

  constructor(options: TraceCheckerOptions = {}) {
    this.maxTracesInFlight = options.maxTracesInFlight ?? 10_000;
    if (!Number.isInteger(this.maxTracesInFlight) || this.maxTracesInFlight < 1) {
      throw new TypeError(`maxTracesInFlight must be a positive integer (received ${String(options.maxTracesInFlight)})`);
    }
  }

  add(span: SpanRecord): void {
    this.spanCount += 1;
    let trace = this.traces.get(span.traceId);
    if (!trace) {
      trace = { spans: new Map(), rootSeen: false };
      this.traces.set(span.traceId, trace);
      if (this.traces.size > this.maxTracesInFlight) {
        const [oldest] = this.traces.keys();
        this.judgedEarly += 1;
        this.judge(oldest!);
      }
    }
    if (span.parentSpanId === undefined) trace.rootSeen = true;
    trace.spans.set(span.spanId, keep(span));
    this.touched.add(span.traceId);
  }

  /** The end of a line or document: judges its traces whose root was seen (all of them if `complete`). */
  endOfChunk(complete = false): void {
    for (const traceId of this.touched) {
      if (complete || this.traces.get(traceId)?.rootSeen) this.judge(traceId);
    }
    this.touched.clear();
  }

  /** Judges what is left; the result. */
  finish(): { violations: TraceViolation[]; spans: number; traces: number; judgedWithoutWholeTrace: number } {
    for (const traceId of [...this.traces.keys()]) this.judge(traceId);
    return { violations: this.found, spans: this.spanCount, traces: this.traceCount, judgedWithoutWholeTrace: this.judgedEarly };
  }

  private judge(traceId: string): void {
    const trace = this.traces.get(traceId);
    if (!trace) return;
    this.traces.delete(traceId);
    this.traceCount += 1;
    const reported = new Set<string>();
    const events = new Map<string, NonNullable<KeptSpan['violationEvents']>[number]>();
    for (const span of trace.spans.values()) {
      for (const event of span.violationEvents ?? []) if (event.spanId) events.set(event.spanId, event);
    }

    for (const [spanId, span] of trace.spans) {
      if (!span.statement || span.statement.allowed) continue;
      const live = liveAncestor(trace.spans, span.parentSpanId);
      if (!live && span.statement.stamp === undefined) continue;
      reported.add(spanId);
      const event = events.get(spanId);
      this.found.push({
        traceId,
        callSid: live?.callSid ?? span.statement.stamp,
        spanId,
        spanName: span.name,
        query: span.statement.query ?? event?.query,
        stack: event?.stack,
        blocked: event?.blocked ?? false,
        source: span.source,
      });
    }

    // Violations whose database span is not in the data: blocked queries
    // (their span never ends), or spans left out of the export.
    for (const span of trace.spans.values()) {
      for (const event of span.violationEvents ?? []) {
        if (event.spanId && reported.has(event.spanId)) continue;
        if (event.spanId) reported.add(event.spanId);
        this.found.push({
          traceId,
          callSid: span.callSid,
          spanId: event.spanId,
          spanName: span.name,
          query: event.query,
          stack: event.stack,
          blocked: event.blocked,
          source: span.source,
        });
      }
    }
  }
}

function keep(span: SpanRecord): KeptSpan {
  const callSid = span.attributes[A.CALL_SID];
  const kept: KeptSpan = {
    parentSpanId: span.parentSpanId,
    name: span.name,
    live: isLiveCallSpan(span),
    callSid: typeof callSid === 'string' ? callSid : undefined,
    source: span.source,
  };
  if (isDatabaseClientSpan(span) && !isConnectionSpan(span)) {
    const stamp = span.attributes[A.LIVE_CALL_ID];
    kept.statement = {
      query: queryTextOf(span.attributes),
      stamp: stamp === undefined ? undefined : String(stamp),
      allowed: span.attributes[A.ALLOWED] === true,
    };
  }
  const events = span.events.filter((event) => event.name === Events.DB_VIOLATION);
  if (events.length > 0) {
    kept.violationEvents = events.map(({ attributes }) => ({
      spanId: typeof attributes[A.VIOLATING_SPAN_ID] === 'string' ? (attributes[A.VIOLATING_SPAN_ID] as string) : undefined,
      query: queryTextOf(attributes),
      stack: typeof attributes[A.CODE_STACKTRACE] === 'string' ? (attributes[A.CODE_STACKTRACE] as string) : undefined,
      blocked: attributes[A.BLOCKED] === true,
    }));
  }
  return kept;
}

function liveAncestor(spans: Map<string, KeptSpan>, parentSpanId: string | undefined): KeptSpan | undefined {
  let current = parentSpanId;
  for (let depth = 0; current !== undefined && depth < MAX_ANCESTRY_DEPTH; depth += 1) {
    const span = spans.get(current);
    if (!span) return undefined;
    if (span.live) return span;
    current = span.parentSpanId;
  }
  return undefined;
}
