import { diag, metrics, SpanStatusCode, type Context, type Counter } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { GuardMode } from '../defaults.js';
import { LiveCallDbAccessError, LiveCallIoAccessError } from '../errors.js';
import { Attributes, Events, INSTRUMENTATION_NAME, Metrics } from './attributes.js';
import { phaseOf } from './call-db-report.js';
import { getCallScope, type CallPhase, type StatementRecorder } from './call-scope.js';
import { callSiteOf, captureCallSite } from './call-site.js';
import { IoAllowlist, type HostPattern } from './io-allowlist.js';
import { ioDurationHistogram } from './io-time.js';
import { ioDescriptionOf, ioKindOf, isConnectionSpan, queryTextOf, type IoKind } from './io-span.js';
import type { LiveCall } from './live-call.js';
import type { Logger } from '../logger.js';

/** Outbound I/O (a database statement, an HTTP request, a Redis command, ...) issued during a live call. */
export interface LiveCallViolation {
  /** What kind of I/O: db, http, redis, messaging, rpc. */
  kind: IoKind;
  callSid: string;
  tenantId: string;
  mode: GuardMode;
  /** True when the statement was rejected before reaching the database. */
  blocked: boolean;
  /** Block mode: the request was let through because the turn (or call) had `ioBudgetMs` left. */
  withinBudget?: boolean;
  /** The statement text (in block mode from the client hook), `METHOD URL`, the command; the span name when it has none. */
  query: string;
  /** The application's call site. */
  stack: string;
  traceId: string;
  spanId: string;
}

export interface LiveCallGuardOptions {
  /** report | block | off. Default `report`. Can be changed later with `setMode`. */
  mode?: GuardMode;
  /** Where the warn line of each violation goes. Default: none. */
  logger?: Logger;
  /** Called for each violation. Its errors are caught and reported to the OTel diag logger. */
  onViolation?: (violation: LiveCallViolation) => void;
  /**
   * Hosts the live path may talk to (the Realtime model endpoint, a TTS
   * host): exact names, `*.domain`, or RegExps tested against the host and
   * the URL. Their I/O is stamped allowed and counted, never a violation.
   * Default: none.
   */
  allowHosts?: readonly HostPattern[];
}

/**
 * Clients besides the database ones (every database span is blocked, as
 * before) whose request fails through the client's own error path when the
 * guard throws in onStart, before anything is sent (see docs/guard-io.md).
 * Others (undici/fetch: its span starts in a diagnostics_channel subscriber,
 * where a throw would be an uncaught exception) are reported, never blocked.
 */
const BLOCKABLE_SCOPES: ReadonlySet<string> = new Set([
  '@opentelemetry/instrumentation-http',
  '@opentelemetry/instrumentation-redis',
]);

/** What onStart learned about a database span, for onEnd. */
interface Tracked {
  kind: IoKind;
  /** The live call it ran under, and whether it was allowed (its time is not charged to the budget). */
  live?: LiveCall;
  allowed?: boolean;
  report: StatementRecorder | undefined;
  phase: CallPhase;
  isStatement: boolean;
  /** A statement knex ran to set up a new connection (`set search_path`, the version probe): never counted against a phase. */
  connectionSetup: boolean;
  violation?: { live: LiveCall; stack: string; reported: boolean; withinBudget: boolean };
}

/**
 * Reports or blocks database queries during a live call.
 *
 * Register it FIRST among span processors: in block mode it throws from
 * `onStart`, which rejects the query before a byte is written (a throw also
 * skips the processors after it); `LiveCallClientHooks` turns that throw into
 * the client's own error path (a rejected promise, an error to the callback,
 * an `error` event), so `client.query()` never throws synchronously. Wrap the
 * sampler with `LiveCallSampler` so that detection does not depend on
 * sampling.
 *
 * What counts: each statement the application sends during a live call is
 * one violation. Statements a client sends to set up a connection it opened
 * for that query (knex's `select version()`, `SET search_path`) are stamped
 * `live_call.connection_setup` and are not violations (nor blocked: the
 * connection stays usable); connection spans (`pg.connect`) never are.
 *
 * Block mode and a turn budget: a live call started with `ioBudgetMs` may
 * spend that much live-path time on disallowed I/O per turn (or per call
 * without turns); such I/O runs and is reported (`live_call.io.within_budget`),
 * and once the budget is spent the next request is blocked. Without a
 * budget, block mode blocks from the first request.
 *
 * It also feeds each call's CallDbReport (statements and time by phase).
 */
export class LiveCallGuardProcessor implements SpanProcessor {
  private mode: GuardMode;
  private readonly logger: Logger | undefined;
  private readonly onViolation: ((violation: LiveCallViolation) => void) | undefined;
  private readonly tracked = new WeakMap<Span | ReadableSpan, Tracked>();
  private allowlist: IoAllowlist;
  private violationCounter: Counter | undefined;
  private ioViolationCounter: Counter | undefined;
  private ioAllowedCounter: Counter | undefined;

  constructor(options: LiveCallGuardOptions = {}) {
    this.mode = validMode(options.mode ?? 'report');
    this.allowlist = new IoAllowlist(options.allowHosts ?? [], 'LiveCallGuardProcessor: allowHosts');
    this.logger = options.logger;
    this.onViolation = options.onViolation;
  }

  get currentMode(): GuardMode {
    return this.mode;
  }

  setMode(mode: GuardMode): void {
    this.mode = validMode(mode);
  }

  /** Replaces the allowlist (`allowHosts`). */
  setAllowHosts(hosts: readonly HostPattern[]): void {
    this.allowlist = new IoAllowlist(hosts, 'LiveCallGuardProcessor: allowHosts');
  }

  onStart(span: Span, parentContext: Context): void {
    const scope = getCallScope(parentContext);
    if (scope === undefined) return;
    const kind = ioKindOf(span as unknown as ReadableSpan);
    if (kind === undefined) return;

    const { live, report, allowance, connectionSetup, callSite, statementText } = scope;
    const tracked: Tracked = { kind, report, phase: phaseOf(scope), isStatement: !isConnectionSpan(span as unknown as ReadableSpan), connectionSetup: connectionSetup === true };
    this.tracked.set(span, tracked);
    if (!live) return;
    tracked.live = live;
    if (this.mode === 'off') return;

    span.setAttributes({ [Attributes.LIVE_CALL_ID]: live.callSid, [Attributes.CONVERSATION_ID]: live.callSid });
    const allowedBy = allowance ?? this.allowedHost((span as unknown as ReadableSpan).attributes);
    if (allowedBy !== undefined) {
      tracked.allowed = true;
      span.setAttributes({ [Attributes.ALLOWED]: true, [Attributes.ALLOWED_REASON]: allowedBy });
      this.allowedCounter().add(1, { [Attributes.IO_KIND]: kind });
      return;
    }
    if (!tracked.isStatement) return;
    if (connectionSetup && kind === 'db') {
      // Part of the query that opened the connection: that query is the violation.
      span.setAttribute(Attributes.CONNECTION_SETUP, true);
      return;
    }

    const stack = callSite ? callSiteOf(callSite) : captureCallSite();
    span.setAttribute(Attributes.VIOLATION, true);
    span.setStatus({ code: SpanStatusCode.ERROR, message: kind === 'db' ? 'database query during a live call' : `${kind} I/O during a live call` });
    const blockable = this.mode === 'block' && (kind === 'db' || BLOCKABLE_SCOPES.has((span as unknown as ReadableSpan).instrumentationScope?.name ?? ''));
    // Block mode with an ioBudgetMs: disallowed I/O runs (reported) while the turn has budget left.
    const withinBudget = blockable && live.ioTime.hasBudgetLeft();
    if (blockable && !withinBudget) {
      const what = kind === 'db' ? (statementText ?? span.name) : ioDescriptionOf(kind, span as unknown as ReadableSpan);
      this.report(this.violation(kind, live, span, stack, what, true), live);
      throw blockedError(kind, live);
    }
    // Reported once the instrumentation has set the statement text (right
    // after onStart), or at onEnd if that comes first: a span that never ends
    // (a submittable `Query` without a callback) is still reported.
    tracked.violation = { live, stack, reported: false, withinBudget };
    process.nextTick(() => this.reportOnce(span, tracked));
  }

  /** The allowlist entry allowing this host, as a reason. */
  private allowedHost(attributes: ReadableSpan['attributes']): string | undefined {
    const entry = this.allowlist.match(attributes);
    return entry === undefined ? undefined : `allowlisted host ${entry}`;
  }

  onEnd(span: ReadableSpan): void {
    const tracked = this.tracked.get(span);
    if (!tracked) return;
    this.tracked.delete(span);
    const ms = durationMs(span);
    if (tracked.isStatement && !tracked.connectionSetup && tracked.kind === 'db') tracked.report?.record(tracked.phase, ms, queryTextOf(span.attributes));
    if (tracked.isStatement) {
      ioDurationHistogram().record(ms, { [Attributes.IO_KIND]: tracked.kind, [Attributes.CALL_PHASE]: tracked.live ? 'live' : tracked.phase });
      tracked.live?.ioTime.record(tracked.kind, ms, tracked.allowed === true);
    }
    this.reportOnce(span, tracked);
  }

  private reportOnce(span: Span | ReadableSpan, tracked: Tracked): void {
    const pending = tracked.violation;
    if (!pending || pending.reported) return;
    pending.reported = true;
    const readable = span as ReadableSpan;
    const query = tracked.kind === 'db' ? (queryTextOf(readable.attributes) ?? span.name) : ioDescriptionOf(tracked.kind, readable);
    this.report(this.violation(tracked.kind, pending.live, span, pending.stack, query, false, pending.withinBudget), pending.live);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  private violation(
    kind: IoKind,
    live: LiveCall,
    span: Span | ReadableSpan,
    stack: string,
    query: string,
    blocked: boolean,
    withinBudget = false,
  ): LiveCallViolation {
    const { traceId, spanId } = span.spanContext();
    return {
      kind,
      callSid: live.callSid,
      tenantId: String(live.tenantId),
      mode: this.mode,
      blocked,
      ...(withinBudget ? { withinBudget } : {}),
      query,
      stack,
      traceId,
      spanId,
    };
  }

  /** Event on `in_live_call`, counter, warn log, user callback. */
  private report(violation: LiveCallViolation, live: LiveCall): void {
    const db = violation.kind === 'db';
    if (live.span.isRecording()) {
      live.span.addEvent(db ? Events.DB_VIOLATION : Events.IO_VIOLATION, {
        ...(db ? { [Attributes.DB_QUERY_TEXT]: violation.query } : { [Attributes.IO_TARGET]: violation.query }),
        [Attributes.IO_KIND]: violation.kind,
        [Attributes.CODE_STACKTRACE]: violation.stack,
        [Attributes.BLOCKED]: violation.blocked,
        ...(violation.withinBudget ? { [Attributes.IO_WITHIN_BUDGET]: true } : {}),
        [Attributes.VIOLATING_SPAN_ID]: violation.spanId,
      });
    }
    if (db) this.counter().add(1, { [Attributes.GUARD_MODE]: violation.mode });
    this.ioCounter().add(1, { [Attributes.IO_KIND]: violation.kind, [Attributes.GUARD_MODE]: violation.mode });
    this.logger?.warn(
      {
        call_sid: violation.callSid,
        io_kind: violation.kind,
        tenant_id: violation.tenantId,
        mode: violation.mode,
        blocked: violation.blocked,
        ...(violation.withinBudget ? { within_budget: true } : {}),
        query: violation.query,
        stack: violation.stack,
      },
      db
        ? violation.blocked
          ? 'database query blocked during a live call'
          : 'database query during a live call'
        : violation.blocked
          ? `${violation.kind} request blocked during a live call`
          : `${violation.kind} request during a live call`,
    );
    if (this.onViolation) {
      try {
        this.onViolation(violation);
      } catch (error) {
        diag.error('live-call-guard: onViolation threw', error);
      }
    }
  }

  private counter(): Counter {
    // Created on first use so that a meter provider registered after the
    // processor is the one counted on.
    this.violationCounter ??= metrics.getMeter(INSTRUMENTATION_NAME).createCounter(Metrics.VIOLATIONS, {
      description: 'Database statements issued during a live call (reported or blocked)',
    });
    return this.violationCounter;
  }

  private ioCounter(): Counter {
    this.ioViolationCounter ??= metrics.getMeter(INSTRUMENTATION_NAME).createCounter(Metrics.IO_VIOLATIONS, {
      description: 'Outbound I/O (database, HTTP, Redis, messaging, RPC) issued during a live call, reported or blocked',
    });
    return this.ioViolationCounter;
  }

  private allowedCounter(): Counter {
    this.ioAllowedCounter ??= metrics.getMeter(INSTRUMENTATION_NAME).createCounter(Metrics.IO_ALLOWED, {
      description: 'Outbound I/O during a live call that was allowed (allowlisted host, escape hatch)',
    });
    return this.ioAllowedCounter;
  }
}

/** What a blocked request fails with: no budget declared (nothing may run), or the turn's budget spent. */
function blockedError(kind: IoKind, live: LiveCall): LiveCallDbAccessError | LiveCallIoAccessError {
  const budget = live.ioTime.budget();
  const why = budget
    ? `its live-path I/O budget is spent (ioBudgetMs ${budget.budgetMs}, ${budget.spentMs} ms spent)`
    : kind === 'db'
      ? 'no query may run while a call is live'
      : 'no outbound I/O outside the allowlist may run while a call is live';
  const message = `${kind === 'db' ? 'database query' : `${kind} request`} blocked during live call ${live.callSid}: ${why} (LIVE_CALL_GUARD=block)`;
  return kind === 'db' ? new LiveCallDbAccessError(message) : new LiveCallIoAccessError(message);
}

function validMode(mode: GuardMode): GuardMode {
  if (mode !== 'report' && mode !== 'block' && mode !== 'off') {
    throw new TypeError(`LiveCallGuardProcessor: mode must be report, block or off (received ${JSON.stringify(mode)})`);
  }
  return mode;
}

function durationMs(span: ReadableSpan): number {
  const [seconds, nanos] = span.duration;
  return seconds * 1e3 + nanos / 1e6;
}
