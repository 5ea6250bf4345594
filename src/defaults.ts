/** What the guard does with a query during a live call (`LIVE_CALL_GUARD`). */
export const GUARD_MODES = ['report', 'block', 'off'] as const;
export type GuardMode = (typeof GUARD_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** When journaled writes are forced to disk (`JOURNAL_FSYNC`): see JournalOptions.fsync. */
export const FSYNC_POLICIES = ['write', 'interval', 'none'] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

/**
 * Every default of the library, in one place: the config (env), the media
 * stream hub, the context loader, the write buffer, the journal and the
 * flusher all read them from here. Frozen: read them, never set them (pass
 * options instead).
 */
export const DEFAULTS = Object.freeze({
  /** The one start-of-call statement's timeout (`CONTEXT_LOAD_TIMEOUT_MS`). */
  contextLoadTimeoutMs: 500,
  /** When journaled writes are forced to disk (`JOURNAL_FSYNC`). */
  journalFsync: 'interval' as FsyncPolicy,
  /** With fsync `interval`: how often written files are synced. */
  journalFsyncIntervalMs: 1000,
  /** Call files open at once (one per live call). */
  journalMaxOpenCalls: 10_000,
  /** JetStream journal (`JOURNAL_URL=nats://…`): replicas of its stream and buckets (R3 in production; R1 for one server). */
  jetstreamReplicas: 3,
  /** The JetStream journal's stream (its KV buckets are `<stream>_instances` and `<stream>_claims`). */
  jetstreamStream: 'LCG_JOURNAL',
  /** Subjects of the JetStream journal: `<prefix>.calls.<instance>.<call>`, `<prefix>.dead.…`, `<prefix>.probe.…`. */
  jetstreamSubjectPrefix: 'lcg.journal',
  /** How long a write may wait for JetStream's acknowledgement (retries included) before it counts as not durable. */
  jetstreamAckTimeoutMs: 5_000,
  /** How long the first connection to NATS may take before the start is refused. */
  jetstreamConnectTimeoutMs: 5_000,
  /** An instance whose heartbeat is older than this is gone: its calls are recovered (the instances bucket's max_age). */
  jetstreamHeartbeatTtlMs: 15_000,
  /** Most bytes the journal's stream holds; past it new writes are refused (not durable), old ones are never dropped. */
  jetstreamMaxBytes: 1024 * 1024 * 1024,
  /** Operations one call may buffer. */
  writeBufferMaxOperations: 1000,
  /** A statement of a flush, before it is cancelled (a transient failure). */
  flushStatementTimeoutMs: 10_000,
  /** First wait before retrying a transient flush failure; the backoff doubles up to the max. */
  flushRetryInitialDelayMs: 200,
  flushRetryMaxDelayMs: 30_000,
  /** How often recovery looks for journals of processes that are gone, and how many it replays at once. */
  recoveryIntervalMs: 30_000,
  recoveryConcurrency: 4,
  /** How long a stream token is valid. */
  streamTokenTtlSeconds: 300,
  /**
   * A context loaded at the webhook (`handler.prefetch`) waits this long for
   * its stream's `start`, then is dropped (the stream loads at `start`).
   * Twilio's `start` comes a few hundred ms after the webhook's answer.
   */
  prefetchTtlMs: 30_000,
  /** Contexts loaded at the webhook kept at once; past it, a prefetch is skipped and counted. */
  prefetchMaxEntries: 1_000,
  /** How often the media stream deletes expired stream claims (0: never), and how many rows at most each time. */
  claimsPruneIntervalMs: 60_000,
  claimsPruneBatch: 10_000,
  /** On SIGTERM, how long live calls may go on (`DRAIN_TIMEOUT_S`). */
  drainTimeoutSeconds: 30,
  /** After the drain: flushes under way, the database close, the telemetry flush, each. */
  shutdownGraceMs: 5_000,
  /** Media stream limits (see MediaStreamLimits). */
  startTimeoutMs: 10_000,
  heartbeatIntervalMs: 15_000,
  maxQueuedWhileLoading: 500,
  maxMessagesPerSecond: 500,
  maxBufferedBytes: 1 << 20,
  stopTimeoutMs: 5_000,
  /**
   * Live calls one server process takes (`MAX_LIVE_CALLS`): the demo
   * receptionist's held level in the capacity bench (500, the median of the
   * latest full `npm run bench:capacity` on a 2-core machine with the load
   * client beside it, and the lowest of its runs over the full runs so far)
   * less 20% for what else the host runs (docs/performance.md). Measure
   * your own host and agent.
   */
  maxLiveCalls: 400,
  /**
   * The server's database pool (`DB_POOL_SIZE`), opened at start and kept
   * open. Size it to the call-start rate: connections busy at once ≈ starts
   * per second × the start statement's time (a few ms) + flushes and
   * webhooks under way; a burst of N starts at once waits N / size
   * statement times. 10 takes a burst of 200 starts within ~100 ms.
   */
  dbPoolSize: 10,
  /** The OpenAI Realtime bridge (live-call-guard/realtime): see RealtimeAgentOptions. */
  realtimeUrl: 'wss://api.openai.com/v1/realtime',
  realtimeModel: 'gpt-realtime',
  realtimeVoice: 'alloy',
  realtimeTranscriptionModel: 'gpt-4o-mini-transcribe',
  realtimeConnectTimeoutMs: 5_000,
  /** Caller frames kept while the model socket opens (50 = 1 s); past it they are dropped and counted. */
  realtimeMaxQueuedFrames: 50,
  /** Bytes the model socket may hold unsent; past it caller frames are dropped and counted. */
  realtimeMaxModelBufferedBytes: 256 * 1024,
  /** Model audio sent to Twilio and not yet played; past it deltas are dropped and counted. */
  realtimeMaxUnplayedMs: 60_000,
  /** Largest event the model may send. */
  realtimeMaxEventBytes: 4 * 1024 * 1024,
  /** How long the model socket may take to close at call end before it is terminated. */
  realtimeCloseTimeoutMs: 1_000,
  /** Longest tool output sent back to the model, in characters. */
  realtimeMaxToolOutputChars: 16_384,

  /**
   * `check`: the longest input line kept (`--max-line-bytes`); a longer one
   * (a zero-filled tail with no newline) is skipped and reported, never joined.
   */
  checkMaxLineBytes: 64 * 1024 * 1024,
  /**
   * `check`: a file whose first line is not a whole JSON value is also held
   * (up to this many bytes) to be parsed as one document; past this, or once
   * two later lines are traces on their own, it is read as JSON lines only.
   */
  checkMaxDocumentBytes: 64 * 1024 * 1024,
  /** `check`: the deepest nesting of objects and arrays read; a deeper line or document is skipped and reported. */
  checkMaxJsonDepth: 256,
} as const);
