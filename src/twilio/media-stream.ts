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
  /** Limits; defaults in DEFAULT_LIMITS. */
  limits?: Partial<MediaStreamLimits>;
  /** Called with the nanoseconds each inbound message took to handle. Default none (nothing measured). */
  onFrameHandled?: (nanoseconds: number) => void;
  /**
   * A start-of-call load that runs more than one statement ends the call
   * (1011) when true, is logged and counted when false. Default: true unless
   * NODE_ENV is `production`.
   */
  strictLoad?: boolean;
}

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
  /** `callEnded`: a stream ended (its socket closed, its writes landed, dead-lettered or journaled). */
  on<K extends keyof MediaStreamEvents>(event: K, listener: (...args: MediaStreamEvents[K]) => void): void;
  off<K extends keyof MediaStreamEvents>(event: K, listener: (...args: MediaStreamEvents[K]) => void): void;
  /**
   * Waits up to `timeoutMs` for live calls to end and their writes to land;
   * then hangs up on the rest (1001) and returns once their writes are with
   * the flusher (stop it next: what has not landed stays journaled).
   */
  drain(timeoutMs: number): Promise<void>;
}

/**
 * Twilio Media Streams for an express-ws app:
 * `app.ws('/media', mediaStream({ knex, agent, flusher, logger }))`.
 * Check signatures before the upgrade with `verifyClient` (see twilio-signature.ts).
 */
export function mediaStream<TContext, TOps extends WriteOperations, TTenant extends TenantId>(
  options: MediaStreamOptions<TContext, TOps, TTenant>,
): MediaStreamHandler {
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
  });
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
  const drain = async (timeoutMs: number): Promise<void> => {
    // Calls that end by themselves: their writes land (or stay journaled) within the drain.
    const ended = await settlesWithin(Promise.all([...sessions].map((session) => session.done)), timeoutMs);
    if (!ended) {
      // Hang up on the rest; their flushes are the flusher's (stopped after the drain: journaled).
      const reason = { code: CloseCodes.GOING_AWAY, reason: 'server shutting down' } as const;
      await Promise.all([...sessions].map((session) => session.hangUp(reason)));
    }
  };
  const handler: MediaStreamHandler = Object.assign(accept, {
    drain,
    stats: (): MediaStreamStats => hub.stats(),
    refusal: () => hub.refusal(),
    admission: (at: 'twiml' | 'upgrade') => hub.admission(at),
    on: <K extends keyof MediaStreamEvents>(event: K, listener: (...args: MediaStreamEvents[K]) => void) => {
      hub.on(event, listener as never);
    },
    off: <K extends keyof MediaStreamEvents>(event: K, listener: (...args: MediaStreamEvents[K]) => void) => {
      hub.off(event, listener as never);
    },
  });
  return handler;
}
