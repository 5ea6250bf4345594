import { ATTR_CODE_STACKTRACE, ATTR_DB_QUERY_TEXT, ATTR_DB_SYSTEM_NAME } from '@opentelemetry/semantic-conventions';

/**
 * The span contract: names of spans, attributes, events and metrics (DESIGN.md).
 * Names the OpenTelemetry semantic conventions define come from
 * `@opentelemetry/semantic-conventions` (stable entry); the layer's own are
 * literals here, nowhere else.
 */
export const SpanNames = {
  MEDIA_STREAM: 'media_stream',
  LOAD_CONTEXT: 'call.load_context',
  /** The stream's claim alone, when its context was loaded at the webhook (prefetched). */
  CLAIM_STREAM: 'call.claim_stream',
  LIVE_CALL: 'in_live_call',
  FLUSH: 'call.flush',
  /** The OpenAI Realtime bridge: one caller turn, speech stopped → first audio of the answer. */
  REALTIME_TURN: 'realtime.turn',
  /** The OpenAI Realtime bridge: one tool call (child of its turn). */
  REALTIME_TOOL: 'realtime.tool',
} as const;

export const Attributes = {
  LIVE_CALL: 'live_call',
  LIVE_CALL_ID: 'live_call.id',
  VIOLATION: 'live_call.violation',
  ALLOWED: 'live_call.allowed',
  /** On a violation event: the query was rejected. */
  BLOCKED: 'live_call.blocked',
  /** On a violation event: the span id of the offending database span. */
  VIOLATING_SPAN_ID: 'live_call.span_id',
  ALLOWED_REASON: 'live_call.allowed_reason',
  /** On a database span: a statement that set up a connection opened during a call (not a violation). */
  CONNECTION_SETUP: 'live_call.connection_setup',
  CALL_SID: 'call.sid',
  STREAM_SID: 'call.stream_sid',
  /** The call's tenant, always a string. On spans only: never a metric attribute (one series per tenant). */
  TENANT_ID: 'tenant.id',
  DIRECTION: 'call.direction',
  /** On media_stream: the call's context was loaded at the webhook (prefetched); only the stream claim ran at `start`. */
  CONTEXT_PREFETCHED: 'call.context.prefetched',
  /** On media_stream: statements the load phase ran past the one it may run (see MediaSession.checkLoadPhase). */
  LOAD_EXTRA_STATEMENTS: 'call.db.load_extra_statements',
  /** On call.flush: operations buffered. */
  CALL_WRITES: 'call.writes',
  /** On call.flush: inserted rows another constraint rejected, resolved by their conflict policy. */
  CALL_FLUSH_CONFLICTS: 'call.flush.conflicts',
  /** On call.flush: writes that could not land (the rest of the call landed without them) and were dead-lettered. */
  CALL_FLUSH_DEAD_LETTERED: 'call.flush.dead_lettered',
  /** On call.flush: statements between BEGIN and COMMIT. */
  CALL_FLUSH_STATEMENTS: 'call.flush.statements',
  QUERIES_LOAD: 'call.db.queries.load',
  QUERIES_LIVE: 'call.db.queries.live',
  QUERIES_FLUSH: 'call.db.queries.flush',
  COMMITS_LOAD: 'call.db.commits.load',
  COMMITS_LIVE: 'call.db.commits.live',
  COMMITS_FLUSH: 'call.db.commits.flush',
  DB_TIME_MS: 'call.db.time_ms',
  CODE_STACKTRACE: ATTR_CODE_STACKTRACE,
  DB_QUERY_TEXT: ATTR_DB_QUERY_TEXT,
  DB_SYSTEM_NAME: ATTR_DB_SYSTEM_NAME,
  /** The pre-1.26 conventions' `db.system` (instrumentation-pg emits it by default); incubating only, so not imported. */
  DB_SYSTEM_LEGACY: 'db.system',
  /** The pre-1.26 conventions' `db.statement`; incubating only, so not imported. */
  DB_STATEMENT_LEGACY: 'db.statement',
  /** On realtime.turn: the caller's item id; ms from speech stopped to the first audio delta; whether it was answered. */
  REALTIME_ITEM_ID: 'realtime.item_id',
  REALTIME_FIRST_AUDIO_MS: 'realtime.turn.first_audio_ms',
  REALTIME_ANSWERED: 'realtime.turn.answered',
  /** On realtime.tool: the tool, its kind (read/write), the outcome (ok/error) and how long the answer took. */
  REALTIME_TOOL_NAME: 'realtime.tool.name',
  REALTIME_TOOL_KIND: 'realtime.tool.kind',
  REALTIME_TOOL_OK: 'realtime.tool.ok',
  REALTIME_TOOL_DURATION_MS: 'realtime.tool.duration_ms',
  /** On in_live_call at call end: the bridge's per-call counts, `realtime.<count>` (see RealtimeCallStats). */
  REALTIME_PREFIX: 'realtime.',
  /** On an I/O violation event and on metrics: db, http, redis, messaging, rpc. */
  IO_KIND: 'live_call.io.kind',
  /** On an I/O violation event: what was sent (`GET https://…`, the Redis command, the statement). */
  IO_TARGET: 'live_call.io.target',
  /** On in_live_call (and each `live_call.turn` event): `live_call.io.time_ms.<kind>`, I/O time on the live path. */
  IO_TIME_MS: 'live_call.io.time_ms',
  /** On `live_call.io_budget_exceeded`: the app's ioBudgetMs and what was spent. */
  IO_BUDGET_MS: 'live_call.io.budget_ms',
  IO_BUDGET_SPENT_MS: 'live_call.io.spent_ms',
  /** On a violation event in block mode: the request ran because the turn (or call) had ioBudgetMs left. */
  IO_WITHIN_BUDGET: 'live_call.io.within_budget',
  /** On the budget counter: `turn` or `call`. */
  IO_BUDGET_SCOPE: 'live_call.io.budget_scope',
  /** On turn events: 1, 2, ... */
  TURN_NUMBER: 'live_call.turn.number',
  /** On the I/O duration histogram: load, live, flush, other. */
  CALL_PHASE: 'call.phase',
  /** On the call's spans: the call sid, as the GenAI conventions name a conversation. */
  CONVERSATION_ID: 'gen_ai.conversation.id',
  /** On the flush duration histogram: landed (the transaction committed) or failed (retried or dead-lettered). */
  FLUSH_OUTCOME: 'call.flush.outcome',
  /** On the journal enqueue histogram: local or jetstream. */
  JOURNAL_BACKEND: 'live_call.journal.backend',
  /** On `media_stream.refused`: where a new call was turned away (twiml, upgrade, start). */
  REFUSED_DOOR: 'door',
  /** On `media_stream.refused`: why (capacity, journal, closed); on `media_stream.problems`: the kind. */
  REFUSED_REASON: 'reason',
  PROBLEM_KIND: 'kind',
  /** On the violation counters: report or block. */
  GUARD_MODE: 'mode',
} as const;

export const Events = {
  DB_VIOLATION: 'live_call.db_violation',
  DB_ALLOWED: 'live_call.db_allowed',
  /** On in_live_call: outbound I/O other than a database statement (HTTP, Redis, messaging, RPC). */
  IO_VIOLATION: 'live_call.io_violation',
  /** On in_live_call: the live-path I/O time went over ioBudgetMs (once per turn, or per call without turns). */
  IO_BUDGET_EXCEEDED: 'live_call.io_budget_exceeded',
  /** On in_live_call: a turn ended, with its I/O time by kind. */
  TURN_IO: 'live_call.turn',
  /** On call.flush: a write conflicted (attributes: the operation and the idempotency key). */
  WRITE_CONFLICT: 'live_call.write_conflict',
  /** On call.flush: a write could not land and was set aside (attributes: the operation, the idempotency key, the reason). */
  WRITE_DEAD_LETTERED: 'live_call.write_dead_lettered',
} as const;

/**
 * Every metric of the library, on meter {@link INSTRUMENTATION_NAME}
 * (docs/metrics.md). Durations are in ms; no metric carries a tenant id.
 */
export const Metrics = {
  /** Counter {mode}: database statements during a live call. */
  VIOLATIONS: 'live_call.db.violations',
  /** Counter {live_call.io.kind, mode}: outbound I/O of any kind during a live call (database included). */
  IO_VIOLATIONS: 'live_call.io.violations',
  /** Counter {live_call.io.kind}: allowed I/O during a live call (allowlisted hosts, the escape hatch). */
  IO_ALLOWED: 'live_call.io.allowed',
  /** Histogram (ms) {live_call.io.kind, call.phase}: outbound I/O under a call. */
  IO_DURATION: 'live_call.io.duration',
  /** Counter {live_call.io.budget_scope}: calls or turns over their ioBudgetMs. */
  IO_BUDGET_EXCEEDED: 'live_call.io.budget_exceeded',
  /** Histogram (ms) {call.context.prefetched}: what a call's `start` waited for its context (the load and claim, or the claim alone). */
  CONTEXT_LOAD_DURATION: 'live_call.context.load.duration',
  /** Histogram (ms) {realtime.turn.answered}: a caller turn, speech stopped → first audio of the answer (or the turn's end). */
  TURN_DURATION: 'live_call.turn.duration',
  /** UpDownCounter: calls live in this process (started, not ended). */
  CALLS_LIVE: 'media_stream.calls.live',
  /** Counter {door, reason}: new calls turned away. */
  CALLS_REFUSED: 'media_stream.refused',
  /** Counter {kind}: media-stream messages dropped, handlers failed, streams closed by the server. */
  STREAM_PROBLEMS: 'media_stream.problems',
  /** Histogram (ms) {live_call.journal.backend}: one write, enqueue → durable (local: the append; JetStream: its acknowledgement). */
  JOURNAL_ENQUEUE_DURATION: 'live_call.journal.enqueue.duration',
  /** Counter: journal appends, file creations and syncs that failed. */
  JOURNAL_FAILURES: 'live_call.buffer.journal_failures',
  /** Histogram (ms) {call.flush.outcome}: one flush attempt (one transaction, or the landing of what can land). */
  FLUSH_DURATION: 'live_call.buffer.flush.duration',
  /** Histogram: statements between BEGIN and COMMIT of a flush that landed. */
  FLUSH_STATEMENTS: 'live_call.buffer.flush.statements',
  /** Histogram: writes a call buffered, at its end. */
  CALL_WRITES: 'live_call.buffer.call_writes',
  /** Gauges: calls whose writes wait to land; dead letters kept; journaled calls live in this process. */
  BUFFER_PENDING: 'live_call.buffer.pending',
  BUFFER_DEAD_LETTERED: 'live_call.buffer.dead_lettered',
  BUFFER_OPEN: 'live_call.buffer.open',
  /** Counters: flush attempts retried; calls landed; calls dead-lettered; rows landed by their conflict policy. */
  FLUSH_RETRIES: 'live_call.buffer.flush.retries',
  FLUSHED: 'live_call.buffer.flushed',
  DEAD_LETTERS: 'live_call.buffer.dead_letters',
  CONFLICTS: 'live_call.buffer.conflicts',
} as const;

/** Tracer and meter name of this library. */
export const INSTRUMENTATION_NAME = 'live-call-guard';
