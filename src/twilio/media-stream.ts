import type { IncomingMessage } from 'node:http';
import type { Knex } from 'knex';
import type { WebSocket } from 'ws';
import type { Flusher } from '../buffer/flusher.js';
import type { JournalBackend } from '../buffer/journal-backend.js';
import type { Logger } from '../logger.js';
import type { TenantId } from '../buffer/journal-format.js';
import type { WriteOperations } from '../buffer/write-operation.js';
import type { CallApp } from '../call-app.js';
import type { Agent } from './agent.js';
import { settlesWithin } from '../settles-within.js';
import { CloseCodes } from './close-codes.js';
import { DEFAULT_LIMITS, MediaStreamHub, type MediaStreamEvents, type MediaStreamLimits, type ProblemKind, type RefusedAt } from './media-stream-hub.js';
import { MediaSession } from './media-session.js';
import { context as otelContext, ROOT_CONTEXT } from '@opentelemetry/api';
import { ContextPrefetch, type ContextPrefetchOptions, type ContextPrefetchStats, type PrefetchOutcome } from '../context/context-prefetch.js';
import { loadContext } from '../context/load-context.js';
import { pruneStreamClaims } from '../context/stream-claims.js';
import { DEFAULTS } from '../defaults.js';
import { parseStreamParameters } from './stream-parameters.js';

export interface MediaStreamOptions<TContext = unknown, TOps extends WriteOperations = WriteOperations, TTenant extends TenantId = TenantId> {
  knex: Knex;
  /** The app's declaration: tenant, start-of-call statement, writes (see defineCallApp). */
  app: CallApp<TTenant, TContext, TOps>;
  /** The voice logic run for each call. */
  agent: Agent<TContext, TOps, TTenant>;
  /** Lands each call's writes at its end (retries, dead letters, recovery). */
  flusher: Flusher;
  /** Where writes are journaled while the call is live. Default none (a crash loses them). */
  journal?: JournalBackend;
  logger: Logger;
  /** CALL_STREAM_SECRET: when set, `start` must carry a valid token for its call and business. */
  streamSecret?: string | undefined;
  /** Limits; each default in DEFAULTS (see MediaStreamLimits). */
  limits?: Partial<MediaStreamLimits>;
  /** Called with the nanoseconds each inbound message took to handle. Default none (nothing measured). */
  onFrameHandled?: (nanoseconds: number) => void;
  /**
   * A start-of-call load that runs more than one statement ends the call
   * (1011) when true, is logged and counted when false. Default: true unless
   * NODE_ENV is `production`.
   */
  strictLoad?: boolean;
  /** The contexts `prefetch` loads at the webhook: how long they wait for their `start`, how many at once. Defaults in DEFAULTS. */
  prefetch?: ContextPrefetchOptions;
  /**
   * How often expired stream claims are deleted (a timer, unref'd, off every
   * call's path; stopped by `drain`). 0: never (prune them yourself with
   * pruneStreamClaims). Default 60 000 ms.
   */
  claimsPruneIntervalMs?: number;
}

/** A call the voice webhook answered: what its Stream carries (see {@link MediaStreamHandler.prefetch}). */
export interface PrefetchCall {
  readonly callSid: string;
  /** The Stream's `<Parameter>`s as the webhook gives them to streamTwiml (the token, if present, is left out). */
  readonly parameters: Readonly<Record<string, string>>;
}

/**
 * What `prefetch` did (`invalid` when the parameters would fail at `start`:
 * nothing loaded, with why), and `settled`: resolves when the load is over
 * (loaded or failed; never rejects), for tests and benchmarks.
 */
export type PrefetchResult =
  | { readonly outcome: PrefetchOutcome; readonly settled: Promise<void> }
  | { readonly outcome: 'invalid'; readonly problem: string; readonly settled: Promise<void> };

/** What `stats()` reports: for `/readyz` and dashboards. */
export interface MediaStreamStats {
  /** Calls between their start and their end. */
  readonly liveCalls: number;
  /** Open media-stream sockets (started or not). */
  readonly sessions: number;
  /** Messages dropped, handlers failed, streams closed by the server, by kind. */
  readonly problems: Readonly<Record<ProblemKind, number>>;
  /** New calls turned away (at capacity, or the journal cannot keep writes), by where. */
  readonly refused: Readonly<Record<RefusedAt, number>>;
  /** Contexts loaded at the webhook: started, taken at `start` (hits), missed, expired, dropped at the cap, failed. */
  readonly prefetch: ContextPrefetchStats;
}

/** The WebSocket route handler, plus what a server needs to watch and drain it. */
export interface MediaStreamHandler {
  (ws: WebSocket, req: IncomingMessage): void;
  stats(): MediaStreamStats;
  /**
   * Why new calls are refused now — at capacity (`maxLiveCalls` open
   * streams) or the journal cannot keep writes — or undefined: for `/readyz`.
   */
  refusal(): string | undefined;
  /** {@link refusal} for a new call at `/twiml` or the upgrade, counted in `stats().refused` and `media_stream.refused` when refused. */
  admission(at: 'twiml' | 'upgrade'): string | undefined;
  /**
   * Starts loading the call's context now, from the voice webhook, once it
   * has answered (or is about to answer) with the Stream: the stream's
   * `start`, if it lands on this process within `prefetch.ttlMs`, takes it
   * without a load (only its claim runs). Returns at once: the load is not
   * awaited and never rejects (a failure leaves the load to `start`). A
   * retried webhook (same call, same parameters) does not load again.
   * Call it after what the context query reads is written (the call log).
   */
  prefetch(call: PrefetchCall): PrefetchResult;
  /** `callEnded`: a stream ended (its socket closed, its writes landed, dead-lettered or journaled); `claimsPruned`: the periodic prune ran. */
  on<K extends keyof MediaStreamEvents>(event: K, listener: (...args: MediaStreamEvents[K]) => void): void;
  off<K extends keyof MediaStreamEvents>(event: K, listener: (...args: MediaStreamEvents[K]) => void): void;
  /**
   * Closes admission first (new calls: `/twiml` busy via {@link admission},
   * upgrade 503, `start` 1013), then waits up to `timeoutMs` for live calls to
   * end and their writes to land; then hangs up on the rest (1001) and
   * returns once their writes are with the flusher (stop it next: what has
   * not landed stays journaled).
   */
  drain(timeoutMs: number): Promise<void>;
  /**
   * Waits up to `timeoutMs` for the streams open now to end and their writes
   * to land (or be dead-lettered or journaled), admission unchanged; true
   * when they all did. For tests and benchmarks between rounds of calls.
   */
  settled(timeoutMs: number): Promise<boolean>;
}

/**
 * Twilio Media Streams for an express-ws app:
 * `app.ws('/media', mediaStream({ knex, app, agent, flusher, logger }))`.
 * Check signatures before the upgrade with `verifyClient` (see twilio-signature.ts).
 * `createCallLayer` builds this with the journal, the flusher and the
 * shutdown order for you.
 */
export function mediaStream<TContext, TOps extends WriteOperations, TTenant extends TenantId>(
  options: MediaStreamOptions<TContext, TOps, TTenant>,
): MediaStreamHandler {
  return mountMediaStream(options).handler;
}

/**
 * {@link mediaStream}, with its hub (admission control) for the call layer.
 * @internal
 */
export function mountMediaStream<TContext, TOps extends WriteOperations, TTenant extends TenantId>(
  options: MediaStreamOptions<TContext, TOps, TTenant>,
): { handler: MediaStreamHandler; hub: MediaStreamHub } {
  if (!(options.knex.client as { version?: string }).version) {
    // Without it knex runs `select version()` on each new connection: a second statement in a call's load phase.
    options.logger.warn('mediaStream: give knex `version` in its config (e.g. version: "15"); without it a new connection runs an extra query');
  }
  if (!options.streamSecret) {
    options.logger.warn('UNAUTHENTICATED: mediaStream has no streamSecret, so a stream start is not bound to the call your webhook answered');
  }
  const hub = new MediaStreamHub({
    knex: options.knex,
    app: options.app as unknown as CallApp,
    agent: options.agent as unknown as Agent,
    strictLoad: options.strictLoad ?? process.env.NODE_ENV !== 'production',
    flusher: options.flusher,
    journal: options.journal,
    logger: options.logger,
    streamSecret: options.streamSecret,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    onFrameHandled: options.onFrameHandled,
    prefetched: new ContextPrefetch(options.prefetch),
  });
  const prune = startClaimsPrune(options, (deleted) => hub.emit('claimsPruned', { deleted }));
  const sessions = new Set<MediaSession>();
  const accept = (ws: WebSocket): void => {
    try {
      const session = new MediaSession(ws, hub);
      sessions.add(session);
      hub.opened();
      const closed = (): void => {
        sessions.delete(session);
        hub.closed();
      };
      // `done` never rejects.
      session.done.then(closed, closed);
    } catch (error) {
      hub.count('internal_error');
      options.logger.error({ err: error }, 'media stream could not start');
      ws.terminate();
    }
  };
  const settled = (timeoutMs: number): Promise<boolean> => settlesWithin(Promise.all([...sessions].map((session) => session.done)), timeoutMs);
  const drain = async (timeoutMs: number): Promise<void> => {
    if (prune) clearInterval(prune);
    // Admission closes first: no new call starts while the live ones finish.
    hub.closeAdmission('draining');
    // Calls that end by themselves: their writes land (or stay journaled) within the drain.
    const ended = await settled(timeoutMs);
    if (!ended) {
      // Hang up on the rest; their flushes are the flusher's (stopped after the drain: journaled).
      const reason = { code: CloseCodes.GOING_AWAY, reason: 'server shutting down' } as const;
      await Promise.all([...sessions].map((session) => session.hangUp(reason)));
    }
  };
  const handler: MediaStreamHandler = Object.assign(accept, {
    drain,
    settled,
    stats: (): MediaStreamStats => ({ ...hub.stats(), prefetch: hub.prefetched.stats() }),
    prefetch: (call: PrefetchCall): PrefetchResult => {
      const { token: _token, ...parameters } = call.parameters;
      const parsed = parseStreamParameters(hub.app, parameters);
      if (!parsed.ok) return { outcome: 'invalid', problem: parsed.problem, settled: Promise.resolve() };
      const start = { callSid: call.callSid, streamSid: null, tenantId: parsed.tenantId, parameters };
      const outcome = hub.prefetched.prefetch(start, () =>
        loadContext(hub.knex, hub.app.context, start, { timeoutMs: hub.limits.contextLoadTimeoutMs }),
      );
      return { outcome, settled: hub.prefetched.settled(start) };
    },
    refusal: () => hub.refusal(),
    admission: (at: 'twiml' | 'upgrade') => hub.admission(at),
    on: <K extends keyof MediaStreamEvents>(event: K, listener: (...args: MediaStreamEvents[K]) => void) => {
      hub.on(event, listener as never);
    },
    off: <K extends keyof MediaStreamEvents>(event: K, listener: (...args: MediaStreamEvents[K]) => void) => {
      hub.off(event, listener as never);
    },
  });
  return { handler, hub };
}

/**
 * Deletes expired stream claims every `claimsPruneIntervalMs`, outside any
 * call (the root context: never under a live call), on an unref'd timer. A
 * failure is logged once per streak; the next tick tries again.
 */
function startClaimsPrune(
  options: Pick<MediaStreamOptions, 'knex' | 'logger' | 'claimsPruneIntervalMs' | 'app'>,
  pruned: (deleted: number) => void,
): NodeJS.Timeout | undefined {
  const intervalMs = options.claimsPruneIntervalMs ?? DEFAULTS.claimsPruneIntervalMs;
  if (!Number.isInteger(intervalMs) || intervalMs < 0) {
    throw new TypeError(`claimsPruneIntervalMs must be a whole number >= 0 (0: never); received ${String(intervalMs)}`);
  }
  if (intervalMs === 0) return undefined;
  let failing = false;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    otelContext
      .with(ROOT_CONTEXT, () => pruneStreamClaims(options.knex, options.app.schema ? { schema: options.app.schema } : {}))
      .then(
        (deleted) => {
          failing = false;
          if (deleted > 0) options.logger.info({ deleted }, 'expired stream claims pruned');
          pruned(deleted);
        },
        (error: unknown) => {
          if (!failing) options.logger.warn({ err: error }, 'pruning expired stream claims failed; retrying each interval');
          failing = true;
        },
      )
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return timer;
}
