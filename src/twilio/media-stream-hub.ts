import { EventEmitter } from 'node:events';
import { DEFAULTS } from '../defaults.js';
import type { Knex } from 'knex';
import type { Flusher } from '../buffer/flusher.js';
import type { JournalBackend } from '../buffer/journal-backend.js';
import type { Logger } from '../logger.js';
import type { CallApp } from '../call-app.js';
import type { Agent } from './agent.js';
import { ContextPrefetch } from '../context/context-prefetch.js';
import { StreamMetrics, type RefusalReason } from './stream-metrics.js';

export interface MediaStreamLimits {
  /** A call must send `start` within this. Default 10 000 ms. */
  startTimeoutMs: number;
  /** Ping period; a peer that misses one is terminated. Default 15 000 ms. */
  heartbeatIntervalMs: number;
  /** The one call-start query's timeout. Default 500 ms. */
  contextLoadTimeoutMs: number;
  /** Messages kept while the context loads; more are dropped and counted. Default 500. */
  maxQueuedWhileLoading: number;
  /** Inbound messages within a second past which the stream is closed (1008): a window holds this many and lasts at least a second. Default 500 (Twilio sends ~50). */
  maxMessagesPerSecond: number;
  /** Outbound bytes queued on a slow socket past which audio is dropped. Default 1 MiB. */
  maxBufferedBytes: number;
  /** How long a promise returned by an agent's onStop is awaited before the flush. Default 5 000 ms. */
  stopTimeoutMs: number;
  /**
   * Calls this server takes at once (`MAX_LIVE_CALLS`); past it new calls are
   * refused (`/twiml` busy, upgrade 503, `start` 1013) so the calls in
   * progress keep their latency. 0: no limit. Default DEFAULTS.maxLiveCalls.
   */
  maxLiveCalls: number;
  /**
   * Each call's `ioBudgetMs` (see LiveCallInfo): the live-path I/O time a
   * turn (the Realtime bridge marks turns; else the whole call) may spend,
   * reported when exceeded, and in block mode the disallowed I/O it may run
   * before the guard blocks the rest. Default: none.
   */
  ioBudgetMs?: number;
}

export const DEFAULT_LIMITS: Readonly<MediaStreamLimits> = Object.freeze({
  startTimeoutMs: DEFAULTS.startTimeoutMs,
  heartbeatIntervalMs: DEFAULTS.heartbeatIntervalMs,
  contextLoadTimeoutMs: DEFAULTS.contextLoadTimeoutMs,
  maxQueuedWhileLoading: DEFAULTS.maxQueuedWhileLoading,
  maxMessagesPerSecond: DEFAULTS.maxMessagesPerSecond,
  maxBufferedBytes: DEFAULTS.maxBufferedBytes,
  stopTimeoutMs: DEFAULTS.stopTimeoutMs,
  maxLiveCalls: DEFAULTS.maxLiveCalls,
});

/** Where a new call was turned away: the webhook (busy TwiML), the upgrade (503), the `start` message (1013). */
export type RefusedAt = 'twiml' | 'upgrade' | 'start';

export type ProblemKind =
  | 'invalid'
  | 'out_of_order'
  | 'agent_error'
  | 'closed_by_server'
  | 'internal_error'
  | 'replayed'
  | 'refused'
  | 'extra_load_statements'
  /** A call that went on without its context: the load failed or took longer than its timeout. */
  | 'context_unavailable';

/** The start of every capacity refusal's reason. */
export const CAPACITY_REASON = 'at capacity';
/** The start of the reason while admission is closed (not started, draining, stopped). */
export const CLOSED_REASON = 'not taking calls';

export interface MediaStreamHubOptions {
  knex: Knex;
  app: CallApp;
  agent: Agent;
  flusher: Flusher;
  journal: JournalBackend | undefined;
  logger: Logger;
  streamSecret: string | undefined;
  limits: MediaStreamLimits;
  /** Called with the nanoseconds each inbound message took to handle (benchmarks). */
  onFrameHandled?: ((nanoseconds: number) => void) | undefined;
  /** A load phase of more than one statement ends the call (true) or is logged and counted (false). */
  strictLoad: boolean;
  /** The contexts loaded at the webhook, waiting for their `start`. Default one with the default options. */
  prefetched?: ContextPrefetch;
}

export interface MediaStreamEvents {
  /** A stream ended: its socket is closed and its writes landed, were dead-lettered or stay journaled. */
  callEnded: [{ callSid: string | undefined; streamSid: string | undefined; why: string }];
  /** The periodic prune deleted expired stream claims (emitted after each run that succeeded, `deleted` may be 0). */
  claimsPruned: [{ deleted: number }];
}

/** What every session of one media endpoint shares: dependencies, limits, the live calls. */
export class MediaStreamHub extends EventEmitter<MediaStreamEvents> {
  private readonly liveCalls = new Set<string>();
  /** Open media-stream sockets, started or not. */
  private sessions = 0;
  private readonly refusedCounts: Record<RefusedAt, number> = { twiml: 0, upgrade: 0, start: 0 };
  /** Whether the last admission was refused: refusals are logged once per streak, counted always. */
  private refusing = false;
  /** Why admission is closed (not started, draining, stopped), or undefined while open. */
  private closedFor: string | undefined;
  private readonly counts: Record<ProblemKind, number> = {
    invalid: 0,
    out_of_order: 0,
    agent_error: 0,
    closed_by_server: 0,
    internal_error: 0,
    replayed: 0,
    refused: 0,
    extra_load_statements: 0,
    context_unavailable: 0,
  };
  readonly knex: Knex;
  readonly app: CallApp;
  readonly agent: Agent;
  readonly strictLoad: boolean;
  readonly flusher: Flusher;
  readonly journal: JournalBackend | undefined;
  readonly logger: Logger;
  readonly streamSecret: string | undefined;
  readonly limits: MediaStreamLimits;
  readonly onFrameHandled: ((nanoseconds: number) => void) | undefined;
  readonly prefetched: ContextPrefetch;
  readonly metrics = new StreamMetrics();

  constructor(options: MediaStreamHubOptions) {
    super();
    this.knex = options.knex;
    this.app = options.app;
    this.agent = options.agent;
    this.strictLoad = options.strictLoad;
    this.flusher = options.flusher;
    this.journal = options.journal;
    this.logger = options.logger;
    this.streamSecret = options.streamSecret;
    this.limits = options.limits;
    this.onFrameHandled = options.onFrameHandled;
    this.prefetched = options.prefetched ?? new ContextPrefetch();
    const max = this.limits.maxLiveCalls;
    if (!Number.isInteger(max) || max < 0) throw new TypeError(`limits.maxLiveCalls must be a whole number >= 0 (0: no limit); received ${String(max)}`);
    const budget = this.limits.ioBudgetMs;
    if (budget !== undefined && (!Number.isFinite(budget) || budget < 0)) throw new TypeError(`limits.ioBudgetMs must be a number of milliseconds >= 0; received ${String(budget)}`);
  }

  /**
   * Why a new call cannot be taken now (the journal cannot keep writes), or
   * undefined. Asked by `/twiml` (busy), the upgrade (503) and `start` (1013).
   */
  refusal(): string | undefined {
    return this.closedRefusal() ?? this.journalRefusal() ?? this.capacityRefusal(this.sessions);
  }

  /**
   * Closes admission: every new call is refused at all three doors (`/twiml`
   * busy, upgrade 503, `start` 1013) until {@link openAdmission}. Calls in
   * progress go on.
   */
  closeAdmission(why: string): void {
    this.closedFor = `${CLOSED_REASON} (${why})`;
  }

  openAdmission(): void {
    this.closedFor = undefined;
  }

  /** Whether admission is closed (see {@link closeAdmission}). */
  get admissionClosed(): boolean {
    return this.closedFor !== undefined;
  }

  /**
   * Why a `start` is refused (1013), or undefined: the journal, or the live
   * calls already at `maxLiveCalls` (the upgrade counts open sockets; this
   * counts started calls, for servers without the upgrade check).
   */
  startRefusal(): string | undefined {
    return this.closedRefusal() ?? this.journalRefusal() ?? this.capacityRefusal(this.liveCalls.size);
  }

  /** {@link refusal}, counted as a refusal at `at` when there is one. */
  admission(at: RefusedAt): string | undefined {
    const reason = this.refusal();
    if (reason !== undefined) this.refused(at, reason);
    else if (this.refusing) {
      this.refusing = false;
      this.logger.info({ refused: { ...this.refusedCounts } }, 'taking new calls again');
    }
    return reason;
  }

  /** Counts a new call turned away; the first of a streak is logged. */
  refused(at: RefusedAt, reason: string): void {
    if (!this.refusing) {
      this.refusing = true;
      this.logger.warn({ reason, at }, 'refusing new calls (counted in media_stream.refused) until this clears');
    }
    this.refusedCounts[at] += 1;
    this.metrics.refused(at, refusalReason(reason));
  }

  private closedRefusal(): string | undefined {
    return this.closedFor;
  }

  private journalRefusal(): string | undefined {
    const health = this.journal?.health();
    if (health && !health.writable) return `the write journal cannot keep writes (${health.reason ?? 'unknown'})`;
    return undefined;
  }

  private capacityRefusal(calls: number): string | undefined {
    const max = this.limits.maxLiveCalls;
    return max > 0 && calls >= max ? `${CAPACITY_REASON} (${max} live calls)` : undefined;
  }

  /** A media-stream socket opened / closed (the capacity check at the upgrade counts them). */
  opened(): void {
    this.sessions += 1;
  }

  closed(): void {
    this.sessions -= 1;
  }

  /** One live stream per call sid: false when the call already has one. */
  claim(callSid: string): boolean {
    if (this.liveCalls.has(callSid)) return false;
    this.liveCalls.add(callSid);
    this.metrics.callStarted();
    return true;
  }

  release(callSid: string): void {
    if (this.liveCalls.delete(callSid)) this.metrics.callEnded();
  }

  /** Emits `callEnded`; a listener that throws is logged, never breaks the call. */
  ended(callSid: string | undefined, streamSid: string | undefined, why: string): void {
    try {
      this.emit('callEnded', { callSid, streamSid, why });
    } catch (error) {
      this.logger.error({ err: error }, 'a callEnded listener threw');
    }
  }

  count(kind: ProblemKind): void {
    this.counts[kind] += 1;
    this.metrics.problem(kind);
  }

  stats(): { liveCalls: number; sessions: number; problems: Readonly<Record<ProblemKind, number>>; refused: Readonly<Record<RefusedAt, number>> } {
    return { liveCalls: this.liveCalls.size, sessions: this.sessions, problems: { ...this.counts }, refused: { ...this.refusedCounts } };
  }
}

/** The bounded label of a refusal's reason (its text names limits and journal errors). */
function refusalReason(reason: string): RefusalReason {
  return reason.startsWith(CAPACITY_REASON) ? 'capacity' : reason.startsWith(CLOSED_REASON) ? 'closed' : 'journal';
}
