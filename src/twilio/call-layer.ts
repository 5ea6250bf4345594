import type { IncomingMessage } from 'node:http';
import type { Knex } from 'knex';
import { Flusher, type FlusherOptions, type FlusherStats, type RecoveryReport } from '../buffer/flusher.js';
import { Journal } from '../buffer/journal.js';
import type { JournalBackend, JournalHealth } from '../buffer/journal-backend.js';
import type { TenantId } from '../buffer/journal-format.js';
import type { WriteOperations } from '../buffer/write-operation.js';
import type { CallApp } from '../call-app.js';
import { DEFAULTS } from '../defaults.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import type { Agent } from './agent.js';
import type { MediaStreamLimits } from './media-stream-hub.js';
import { mountMediaStream, type MediaStreamHandler, type MediaStreamStats } from './media-stream.js';
import { busyTwiml, streamTwiml } from './stream-twiml.js';
import { isValidTwilioSignature, twilioUpgradeVerifier } from './twilio-signature.js';

export interface CallLayerOptions<TContext = unknown, TOps extends WriteOperations = WriteOperations, TTenant extends TenantId = TenantId> {
  /** The app's database (give knex `version` in its config, or each new connection runs `select version()`). */
  knex: Knex;
  /** The app's declaration: tenant, start-of-call statement, writes (see defineCallApp). */
  app: CallApp<TTenant, TContext, TOps>;
  /** The voice logic run for each call. */
  agent: Agent<TContext, TOps, TTenant>;
  /**
   * Where live calls' writes are journaled: a directory (`JOURNAL_DIR`), a
   * {@link Journal} you made (for its fsync options), or another backend
   * (JetStreamJournal). The layer probes a local one at `start()` and closes
   * any at `stop()`.
   */
  journal: string | JournalBackend;
  /** Default: the layer's pino logger on stdout at info. */
  logger?: Logger;
  /** Media-stream limits; each default in DEFAULTS (see MediaStreamLimits). */
  limits?: Partial<MediaStreamLimits>;
  /** CALL_STREAM_SECRET: binds each stream `start` to the call the webhook answered (a signed, single-use token). Strongly advised. */
  streamSecret?: string | undefined;
  /**
   * Twilio's side. `authToken` (TWILIO_AUTH_TOKEN): `twiml()` and the upgrade
   * check `X-Twilio-Signature` (403 when wrong); it needs `publicUrl` (the
   * https:// origin Twilio reaches; signatures are over it), else the
   * constructor throws. Default: no signature checks (logged at start).
   */
  twilio?: { authToken?: string | undefined; publicUrl?: string | undefined };
  /** The media endpoint's path (the Stream URL and the signed upgrade URL). Default `/media`. */
  mediaPath?: string;
  /** The flusher's retry and recovery options (see FlusherOptions). */
  flusher?: Pick<FlusherOptions, 'retryInitialDelayMs' | 'retryMaxDelayMs' | 'recoveryIntervalMs' | 'recoveryConcurrency' | 'statementTimeoutMs' | 'meterProvider'>;
  /** Called with the nanoseconds each inbound message took to handle (benchmarks). Default none. */
  onFrameHandled?: (nanoseconds: number) => void;
  /** See MediaStreamOptions.strictLoad. Default: true unless NODE_ENV is `production`. */
  strictLoad?: boolean;
}

/** What Twilio signed of a webhook request. */
export interface SignedWebhook {
  /** The path and query Twilio requested (express: `req.originalUrl`); signed with `publicUrl`. */
  url: string;
  /** The `X-Twilio-Signature` header. */
  signature: string | string[] | undefined;
  /** The POSTed form fields, as strings (signed too). */
  form: Readonly<Record<string, string>>;
}

/** The voice webhook, as `twiml()` needs it. */
export interface WebhookRequest extends SignedWebhook {
  /** The call the webhook answers (`CallSid`): the stream token is bound to it. */
  callSid: string;
  /** The Stream's `<Parameter>`s: the tenant, and whatever the context query reads. */
  parameters: Readonly<Record<string, string>>;
  /** The request's origin, used when `twilio.publicUrl` is not set (no signature checks then). */
  origin?: string;
}

/** What to answer the webhook: send it as is. */
export interface WebhookAnswer {
  readonly status: 200 | 403;
  readonly contentType: 'text/xml' | 'text/plain';
  readonly body: string;
  /** Why the call was turned away with a busy signal (not admitting), when it was. */
  readonly refused?: string;
}

/** Where the layer is in its life. */
export type CallLayerState = 'created' | 'starting' | 'running' | 'draining' | 'stopped';

/** For `/readyz`: whether new calls are taken, and why not. */
export interface CallLayerReadiness {
  readonly state: CallLayerState;
  /** True when running and taking new calls (the journal writable, below `maxLiveCalls`). */
  readonly admitting: boolean;
  /** Why not, when not admitting. */
  readonly reason?: string;
  readonly calls: MediaStreamStats;
  readonly journal: JournalHealth;
  readonly flusher: FlusherStats;
}

type VerifyClient = (info: { req: IncomingMessage }, callback: (result: boolean, code?: number, message?: string) => void) => void;

/** The lifecycle of the layer in one object: mount it, start it, stop it. */
export interface CallLayer {
  /** The express-ws route: `app.ws('/media', layer.handler)`. */
  readonly handler: MediaStreamHandler;
  /** The upgrade check (express-ws `wsOptions.verifyClient`): 503 when not admitting, 403 for a bad signature. */
  readonly verifyClient: VerifyClient;
  /** The flusher (stats, events); its lifecycle is the layer's. */
  readonly flusher: Flusher;
  /** The journal (health); its lifecycle is the layer's. */
  readonly journal: JournalBackend;
  /**
   * Answers the voice webhook: 403 when the signature is wrong (with
   * `twilio.authToken`), a busy `<Reject>` when not admitting (counted), else
   * the `<Connect><Stream>` with the parameters and a signed token.
   */
  twiml(request: WebhookRequest): WebhookAnswer;
  /** Whether the webhook carries Twilio's signature (always true without `twilio.authToken`): check it before reading the body. */
  verifyWebhook(request: SignedWebhook): boolean;
  /**
   * Probes the journal (a journal that cannot keep writes fails the start),
   * recovers the journals earlier processes left, starts the periodic
   * recovery, then admits calls. Until it resolves every new call is refused.
   * Runs once; on failure the layer admits nothing (call `stop()`).
   */
  start(): Promise<RecoveryReport>;
  /**
   * Closes admission first (`/twiml` busy, upgrade 503, `start` 1013,
   * `ready()` draining), then lets live calls end for up to `timeoutMs`
   * (their writes land), then hangs up on the rest. Runs once.
   */
  drain(timeoutMs?: number): Promise<void>;
  /**
   * The one right order: drain (if not yet) → the flusher stops, flushes
   * under way get `graceMs` (then stay journaled) → the journal closes.
   * Runs once. Defaults: `drainMs` DEFAULTS.drainTimeoutSeconds,
   * `graceMs` DEFAULTS.shutdownGraceMs.
   */
  stop(options?: { drainMs?: number; graceMs?: number }): Promise<void>;
  /** The state for `/readyz` (probes an unwritable journal again at most once a second). */
  ready(): CallLayerReadiness;
}

/**
 * The layer, mounted on an express-ws app: one object that owns the journal,
 * the flusher and the media-stream handler, and starts and stops them in the
 * right order.
 *
 * ```ts
 * const layer = createCallLayer({ knex, app, agent, journal: '.data/journal', streamSecret, twilio: { authToken, publicUrl } });
 * await layer.start();
 * app.ws('/media', layer.handler);            // with wsOptions.verifyClient: layer.verifyClient
 * process.once('SIGTERM', () => layer.stop().catch((error) => logger.error({ err: error }, 'stop failed')));
 * ```
 */
export function createCallLayer<TContext, TOps extends WriteOperations, TTenant extends TenantId>(
  options: CallLayerOptions<TContext, TOps, TTenant>,
): CallLayer {
  validate(options);
  const logger = options.logger ?? createLogger();
  const authToken = options.twilio?.authToken;
  const publicUrl = options.twilio?.publicUrl;
  const mediaPath = options.mediaPath ?? '/media';
  const journal = typeof options.journal === 'string' ? new Journal({ dir: options.journal, logger }) : options.journal;
  // The start check also proves the tenant column takes the app's tenant ids.
  const flusher = new Flusher({ tenantSchema: options.app.tenant, ...options.flusher, knex: options.knex, operations: options.app.writes, journal, logger });
  const { handler, hub } = mountMediaStream({
    knex: options.knex,
    app: options.app,
    agent: options.agent,
    flusher,
    journal,
    logger,
    streamSecret: options.streamSecret,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.onFrameHandled ? { onFrameHandled: options.onFrameHandled } : {}),
    ...(options.strictLoad !== undefined ? { strictLoad: options.strictLoad } : {}),
  });
  // Nothing is admitted before the journal is probed and recovered.
  hub.closeAdmission('not started');
  const verifyClient = twilioUpgradeVerifier({ authToken, publicUrl, path: mediaPath, refusal: () => handler.admission('upgrade') });

  let state: CallLayerState = 'created';
  let starting: Promise<RecoveryReport> | undefined;
  let draining: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const start = (): Promise<RecoveryReport> =>
    (starting ??= (async () => {
      if (state !== 'created') throw new ConfigError(`createCallLayer: start() after stop() (state ${state})`);
      state = 'starting';
      if (journal instanceof Journal) journal.probe();
      const recovery = await flusher.start();
      if (recovery.claimed > 0) logger.info({ recovery }, 'recovered journaled writes of earlier processes');
      if (!authToken) logger.warn('UNAUTHENTICATED: no twilio.authToken, so the webhook and the media upgrade are not signature-checked');
      // A stop() that came while recovering wins: admission stays closed.
      if (state === 'starting') {
        state = 'running';
        hub.openAdmission();
      }
      return recovery;
    })());

  const drain = (timeoutMs: number = DEFAULTS.drainTimeoutSeconds * 1000): Promise<void> =>
    (draining ??= (async () => {
      if (state !== 'stopped') state = 'draining';
      // Admission closes before anything awaits (handler.drain closes it too).
      hub.closeAdmission('draining');
      logger.info({ live_calls: hub.stats().liveCalls, timeout_ms: timeoutMs }, 'draining');
      await handler.drain(timeoutMs);
    })());

  const stop = (stopOptions: { drainMs?: number; graceMs?: number } = {}): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await drain(stopOptions.drainMs);
        // The flusher's grace first: what has not landed is persisted to the still-open journal.
        await flusher.stop({ graceMs: stopOptions.graceMs ?? DEFAULTS.shutdownGraceMs });
      } finally {
        state = 'stopped';
        hub.closeAdmission('stopped');
        await journal.close();
      }
    })());

  const verifyWebhook = (request: SignedWebhook): boolean =>
    !authToken || isValidTwilioSignature(authToken, request.signature, new URL(request.url, publicUrl).toString(), { ...request.form });

  const twiml = (request: WebhookRequest): WebhookAnswer => {
    if (!verifyWebhook(request)) return { status: 403, contentType: 'text/plain', body: 'invalid X-Twilio-Signature' };
    const refused = handler.admission('twiml');
    if (refused !== undefined) return { status: 200, contentType: 'text/xml', body: busyTwiml(), refused };
    const origin = publicUrl ?? request.origin;
    if (!origin) throw new ConfigError('createCallLayer twiml(): give twilio.publicUrl, or the request origin, for the Stream URL');
    return {
      status: 200,
      contentType: 'text/xml',
      body: streamTwiml({ publicUrl: origin, path: mediaPath, callSid: request.callSid, parameters: request.parameters, streamSecret: options.streamSecret }),
    };
  };

  const ready = (): CallLayerReadiness => {
    const reason = hub.refusal();
    return {
      state,
      admitting: reason === undefined,
      ...(reason !== undefined ? { reason } : {}),
      calls: handler.stats(),
      journal: journal.health(),
      flusher: flusher.stats(),
    };
  };

  return { handler, verifyClient, flusher, journal, twiml, verifyWebhook, start, drain, stop, ready };
}

/** Fails closed: a layer that could not check what its options promise is not built. */
function validate(options: CallLayerOptions<unknown, WriteOperations, TenantId>): void {
  const fail = (message: string): never => {
    throw new ConfigError(`createCallLayer: ${message}`);
  };
  if (!options || typeof options !== 'object') fail('options must be an object');
  if (typeof options.knex !== 'function' || typeof (options.knex as { client?: unknown }).client !== 'object') fail('knex must be a Knex instance');
  if (!options.app || typeof options.app !== 'object' || !options.app.writes) fail('app must be the result of defineCallApp()');
  if (!options.agent || typeof options.agent.startCall !== 'function') fail('agent must have a startCall(call) method');
  const backend = options.journal as Partial<JournalBackend> | string | undefined;
  if (typeof backend === 'string' ? backend === '' : typeof backend?.openCall !== 'function' || typeof backend.health !== 'function') {
    fail(`journal must be a directory path or a journal backend (a Journal) (received ${JSON.stringify(options.journal)})`);
  }
  if (options.streamSecret !== undefined && (typeof options.streamSecret !== 'string' || options.streamSecret.length < 16)) {
    fail('streamSecret, when given, must be a string of at least 16 characters');
  }
  const { authToken, publicUrl } = options.twilio ?? {};
  if (authToken !== undefined && (typeof authToken !== 'string' || authToken === '')) fail('twilio.authToken, when given, must be a non-empty string');
  if (authToken && !publicUrl) fail('twilio.authToken needs twilio.publicUrl (the https:// origin Twilio reaches): signatures are over it');
  if (publicUrl !== undefined) {
    let protocol: string | undefined;
    try {
      protocol = new URL(publicUrl).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== 'https:' && protocol !== 'http:') fail(`twilio.publicUrl must be an http(s):// origin (received ${JSON.stringify(publicUrl)})`);
  }
  if (options.mediaPath !== undefined && !/^\/[\w./-]*$/.test(options.mediaPath)) fail(`mediaPath must be a path like /media (received ${JSON.stringify(options.mediaPath)})`);
}
