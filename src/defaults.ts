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
 * flusher all read them from here.
 */
export const DEFAULTS = {
  /** The one start-of-call statement's timeout (`CONTEXT_LOAD_TIMEOUT_MS`). */
  contextLoadTimeoutMs: 500,
  /** When journaled writes are forced to disk (`JOURNAL_FSYNC`). */
  journalFsync: 'interval' as FsyncPolicy,
  /** With fsync `interval`: how often written files are synced. */
  journalFsyncIntervalMs: 1000,
  /** Call files open at once (one per live call). */
  journalMaxOpenCalls: 10_000,
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
   * Live calls one server process takes (`MAX_LIVE_CALLS`): the level the
   * capacity bench held in every run on a shared 2-core machine with its
   * client beside it (1,000 when the machine was quiet; README,
   * Performance). Measure your own host and agent.
   */
  maxLiveCalls: 500,
  /**
   * The server's database pool (`DB_POOL_SIZE`), opened at start and kept
   * open. Size it to the call-start rate: connections busy at once ≈ starts
   * per second × the start statement's time (a few ms) + flushes and
   * webhooks under way; a burst of N starts at once waits N / size
   * statement times. 10 takes a burst of 200 starts within ~100 ms.
   */
  dbPoolSize: 10,
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
} as const;
