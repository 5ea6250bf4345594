import { Attributes as A, Events } from '../guard/attributes.js';
import { IoAllowlist, type HostPattern } from '../guard/io-allowlist.js';
import { IO_KINDS, ioDescriptionOf, ioKindOf, isConnectionSpan, isLiveCallSpan, queryTextOf, type IoKind } from '../guard/io-span.js';
import type { SourcePosition, SpanRecord } from './span-record.js';

/** Outbound I/O (a database statement, an HTTP request, a Redis command, ...) issued during a live call, found in exported traces. */
export interface TraceViolation {
  /** db, http, redis, messaging, rpc. */
  kind: IoKind;
  traceId: string;
  /** The call's sid: the live span's `call.sid`, or the DB span's `live_call.id` stamp. */
  callSid: string | undefined;
  /** The I/O span; undefined when only the live call's violation event was exported. */
  spanId: string | undefined;
  spanName: string;
  /** The statement, the command, or `METHOD URL`. */
  query: string | undefined;
  /** The application's call site, from the `live_call.db_violation` event. */
  stack: string | undefined;
  /** The guard rejected it (block mode). */
  blocked: boolean;
  source: SourcePosition;
}

/** What the checker counted. */
export interface TraceCheckerResult {
  violations: TraceViolation[];
  /** Distinct spans read (duplicates not counted). */
  spans: number;
  /** The same (trace id, span id) read again: ignored. */
  duplicates: number;
  traces: number;
  /** Distinct live-call spans (`in_live_call`) judged. */
  calls: number;
  /** Each of them, in the order read: its trace and call sid (for the HTML report's list of calls). */
  liveCalls: ReadonlyArray<LiveCall>;
}

/** A live-call span seen in the input. */
export interface LiveCall {
  traceId: string;
  callSid: string | undefined;
}

/** A span's ancestry, in one small integer: not live, waiting for its parent, or the index of its call. */
const NOT_LIVE = -1;
const PENDING = -2;

interface LiveCallInfo extends LiveCall {
  spanName: string;
  source: SourcePosition;
}

interface ViolationEvent {
  kind: IoKind;
  call: number;
  spanId: string | undefined;
  query: string | undefined;
  stack: string | undefined;
  blocked: boolean;
}

/** A database statement span whose ancestry decides whether it is a violation. */
interface Candidate {
  kind: IoKind;
  name: string;
  query: string | undefined;
  stamp: string | undefined;
  source: SourcePosition;
}

interface TraceState {
  /** span id → NOT_LIVE, PENDING, or the call index of its live ancestor. */
  ancestry: Map<string, number>;
  /** parent span id not read yet → the spans waiting for it. */
  waiting?: Map<string, string[]>;
  /** DB statement spans still to be judged (pending), or judged violations. */
  candidates?: Map<string, Candidate>;
  events?: ViolationEvent[];
}

/**
 * The offline form of the guard's rule, exact whatever the order of spans:
 * a violation is a database statement span with an `in_live_call` ancestor,
 * or one stamped `live_call.id`, or a `live_call.db_violation` event whose
 * span was not exported (a blocked query). Spans are de-duplicated by
 * (trace id, span id).
 *
 * Memory: per distinct span, one Map entry (its 16-hex id → a small integer)
 * in its trace's ancestry; per trace, a few small Maps; plus the DB
 * statement spans whose ancestry is not known yet or is live, the spans
 * waiting for a parent not read yet, and the violation events. Nothing else
 * of a span is kept, so a late child (read after its parent and root, or in
 * a later file) still finds its live ancestor.
 */
/** What the checker treats as allowed. */
export interface TraceCheckerOptions {
  /** Hosts whose I/O is allowed during a live call, as the runtime's `allowHosts` (`--allow-host`). Default none. */
  allowHosts?: readonly HostPattern[];
  /**
   * Span names that also mark a live window (`--window-span`): another
   * stack's call or turn span, e.g. Pipecat's `conversation` / `turn`,
   * LiveKit's `agent_session`. Default none (only `in_live_call`).
   */
  windowSpans?: readonly string[];
  /** Spans carrying this attribute (any value, or `value` as text) also mark a live window (`--window-attribute`). Default none. */
  windowAttributes?: ReadonlyArray<{ key: string; value?: string }>;
}

/** The attributes a foreign window span names its conversation by, first found wins. */
const WINDOW_ID_ATTRIBUTES = ['call.sid', 'gen_ai.conversation.id', 'conversation.id', 'session.id', 'lk.room_name'];

export class TraceChecker {
  private readonly traces = new Map<string, TraceState>();
  private readonly allowlist: IoAllowlist;

  private readonly windowSpans: ReadonlySet<string>;
  private readonly windowAttributes: ReadonlyArray<{ key: string; value?: string }>;

  constructor(options: TraceCheckerOptions = {}) {
    this.allowlist = new IoAllowlist(options.allowHosts ?? [], 'allowHosts');
    this.windowSpans = new Set(options.windowSpans ?? []);
    this.windowAttributes = options.windowAttributes ?? [];
  }

  /** `in_live_call` (or `live_call=true`), or a window span the options name. */
  private isWindow(span: SpanRecord): boolean {
    if (isLiveCallSpan(span)) return true;
    if (this.windowSpans.has(span.name)) return true;
    return this.windowAttributes.some(({ key, value }) => {
      const found = span.attributes[key];
      return found !== undefined && (value === undefined || String(found) === value);
    });
  }

  private readonly calls: LiveCallInfo[] = [];
  private spanCount = 0;
  private duplicateCount = 0;

  add(span: SpanRecord): void {
    let trace = this.traces.get(span.traceId);
    if (!trace) {
      trace = { ancestry: new Map() };
      this.traces.set(span.traceId, trace);
    }
    if (trace.ancestry.has(span.spanId)) {
      this.duplicateCount += 1;
      return;
    }
    this.spanCount += 1;

    const live = this.isWindow(span);
    const kind = live ? undefined : ioKindOf(span);
    if (kind !== undefined && !isConnectionSpan(span) && !isExempt(span) && this.allowlist.match(span.attributes) === undefined) {
      const stamp = span.attributes[A.LIVE_CALL_ID];
      (trace.candidates ??= new Map()).set(span.spanId, {
        kind,
        name: span.name,
        query: kind === 'db' ? queryTextOf(span.attributes) : ioDescriptionOf(kind, span),
        stamp: stamp === undefined ? undefined : String(stamp),
        source: span.source,
      });
    }

    let state: number;
    if (live) {
      const callSid = WINDOW_ID_ATTRIBUTES.map((key) => span.attributes[key]).find((value) => typeof value === 'string' && value !== '');
      state = this.calls.push({ traceId: span.traceId, callSid: typeof callSid === 'string' ? callSid : undefined, spanName: span.name, source: span.source }) - 1;
      this.keepEvents(trace, span, state);
    } else if (span.parentSpanId === undefined) {
      state = NOT_LIVE;
    } else {
      const parent = trace.ancestry.get(span.parentSpanId);
      state = parent === undefined ? PENDING : parent;
      if (state === PENDING) {
        const waiting = (trace.waiting ??= new Map());
        const list = waiting.get(span.parentSpanId);
        if (list) list.push(span.spanId);
        else waiting.set(span.parentSpanId, [span.spanId]);
      }
    }
    this.settle(trace, span.spanId, state);
  }

  /** Judges everything read; the result. */
  finish(): TraceCheckerResult {
    const violations: TraceViolation[] = [];
    for (const [traceId, trace] of this.traces) this.judge(traceId, trace, violations);
    return {
      violations,
      spans: this.spanCount,
      duplicates: this.duplicateCount,
      traces: this.traces.size,
      calls: this.calls.length,
      liveCalls: this.calls,
    };
  }

  /** Sets a span's ancestry, then that of the spans that were waiting for it (and theirs). */
  private settle(trace: TraceState, spanId: string, state: number): void {
    const stack: Array<[string, number]> = [[spanId, state]];
    while (stack.length > 0) {
      const [id, value] = stack.pop()!;
      trace.ancestry.set(id, value);
      if (value === NOT_LIVE) this.dropCandidateIfClean(trace, id);
      if (value === PENDING) continue;
      const waiters = trace.waiting?.get(id);
      if (!waiters) continue;
      trace.waiting!.delete(id);
      for (const waiter of waiters) stack.push([waiter, value]);
    }
  }

  /** A DB span known not to be under a live call, and not stamped: nothing to keep. */
  private dropCandidateIfClean(trace: TraceState, spanId: string): void {
    const candidate = trace.candidates?.get(spanId);
    if (candidate && candidate.stamp === undefined) trace.candidates!.delete(spanId);
  }

  private keepEvents(trace: TraceState, span: SpanRecord, call: number): void {
    for (const { name, attributes } of span.events) {
      if (name !== Events.DB_VIOLATION && name !== Events.IO_VIOLATION) continue;
      const spanId = attributes[A.VIOLATING_SPAN_ID];
      const stack = attributes[A.CODE_STACKTRACE];
      const kind = attributes[A.IO_KIND];
      const target = attributes[A.IO_TARGET];
      (trace.events ??= []).push({
        kind: name === Events.DB_VIOLATION ? 'db' : ((IO_KIND_SET.has(kind as IoKind) ? kind : 'http') as IoKind),
        call,
        spanId: typeof spanId === 'string' ? spanId : undefined,
        query: queryTextOf(attributes) ?? (typeof target === 'string' ? target : undefined),
        stack: typeof stack === 'string' ? stack : undefined,
        blocked: attributes[A.BLOCKED] === true,
      });
    }
  }

  private judge(traceId: string, trace: TraceState, out: TraceViolation[]): void {
    const events = new Map<string, ViolationEvent>();
    for (const event of trace.events ?? []) if (event.spanId) events.set(event.spanId, event);
    const reported = new Set<string>();

    for (const [spanId, candidate] of trace.candidates ?? []) {
      const state = trace.ancestry.get(spanId) ?? PENDING;
      const live = state >= 0 ? this.calls[state] : undefined;
      if (!live && candidate.stamp === undefined) continue;
      reported.add(spanId);
      const event = events.get(spanId);
      out.push({
        kind: candidate.kind,
        traceId,
        callSid: live?.callSid ?? candidate.stamp,
        spanId,
        spanName: candidate.name,
        query: candidate.query ?? event?.query,
        stack: event?.stack,
        blocked: event?.blocked ?? false,
        source: candidate.source,
      });
    }

    // Violations whose database span is not in the data: blocked queries
    // (their span never ends), or spans left out of the export.
    for (const event of trace.events ?? []) {
      if (event.spanId && reported.has(event.spanId)) continue;
      if (event.spanId) reported.add(event.spanId);
      const call = this.calls[event.call]!;
      out.push({
        kind: event.kind,
        traceId,
        callSid: call.callSid,
        spanId: event.spanId,
        spanName: call.spanName,
        query: event.query,
        stack: event.stack,
        blocked: event.blocked,
        source: call.source,
      });
    }
  }
}

const IO_KIND_SET: ReadonlySet<IoKind> = new Set(IO_KINDS);

/** Allowed by the escape hatch, or a statement that set up a connection for a query. */
function isExempt(span: SpanRecord): boolean {
  return span.attributes[A.ALLOWED] === true || span.attributes[A.CONNECTION_SETUP] === true;
}
