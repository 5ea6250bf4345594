export { loadConfig, GUARD_MODES, LOG_LEVELS, FSYNC_POLICIES } from './config.js';
export type { Config, GuardMode, LogLevel, FsyncPolicy } from './config.js';
export {
  ErrorCodes,
  LiveCallGuardError,
  ConfigError,
  EmbeddedPostgresError,
  DatabaseUnavailableError,
  PortInUseError,
  LiveCallDbAccessError,
  UnknownBusinessError,
  CallContextLoadError,
  InvalidWriteError,
  WriteBufferFullError,
  WriteBufferClosedError,
  JournalError,
  TenantMismatchError,
} from './errors.js';
export type { ErrorCode } from './errors.js';
export { createKnex } from './db/knex.js';
export type { KnexOptions } from './db/knex.js';
export { migrate } from './db/migrate.js';
export { seedDemoData, DEMO_NUMBERS } from './db/seed.js';
export { openDatabase, createDatabaseIfMissing } from './db/database.js';
export type { Database, DatabaseOptions } from './db/database.js';
export { EmbeddedPostgres } from './db/embedded-postgres.js';
export type { EmbeddedPostgresOptions } from './db/embedded-postgres.js';
export { maskConnectionString } from './db/connection-string.js';
export {
  startTelemetry,
  activeTelemetry,
  createLogger,
  startLiveCall,
  runInLiveCall,
  getLiveCall,
  allowDatabaseDuringLiveCall,
  LiveCallGuardProcessor,
  LiveCallSampler,
  samplerFromEnv,
  liveCallInstrumentations,
  liveCallSpanProcessors,
  LiveCallClientHooks,
  CallDbReport,
  withCallDbReport,
  runInCallPhase,
  isDatabaseClientSpan,
  TraceFileExporter,
  SpanNames,
  Attributes,
  Events,
  Metrics,
} from './telemetry/index.js';
export type {
  Telemetry,
  TelemetryOptions,
  Logger,
  LoggerOptions,
  LiveCall,
  LiveCallInfo,
  LiveCallGuardOptions,
  LiveCallViolation,
  LiveCallSpanProcessorsOptions,
  CallPhase,
  CallDbFigures,
  SpanLike,
} from './telemetry/index.js';
export {
  mediaStream,
  DEFAULT_LIMITS,
  CloseCodes,
  receptionistAgent,
  twimlRoute,
  twilioUpgradeVerifier,
  isValidTwilioSignature,
  mediaStreamUrl,
  createStreamToken,
  verifyStreamToken,
  parseInboundMessage,
  nextFreeSlot,
  createAppServer,
  serve,
} from './app/index.js';
export type {
  MediaStreamHandler,
  MediaStreamOptions,
  MediaStreamLimits,
  CloseReason,
  Agent,
  AgentCall,
  AgentSession,
  ReceptionistOptions,
  TwimlRouteOptions,
  UpgradeVerifierOptions,
  StreamClaims,
  InboundMessage,
  OutboundMessage,
  AppServer,
  AppServerOptions,
  RunningServer,
  ServeOptions,
} from './app/index.js';
export { TwilioStreamClient } from './sim/twilio-stream-client.js';
export type { StreamClientOptions, StreamStart } from './sim/twilio-stream-client.js';
export { parseStreamTwiml } from './sim/twiml.js';
export {
  checkTraces,
  TraceChecker,
  checkExitCode,
  checkVerdict,
  formatJson,
  formatText,
  expectNoLiveCallDbAccess,
  findLiveCallDbAccess,
} from './telemetry/check/index.js';
export type {
  CheckResult,
  CheckTracesOptions,
  TraceViolation,
  TraceCheckerResult,
  CheckGateOptions,
  CheckVerdict,
  SpanRecord,
  SkippedInput,
} from './telemetry/check/index.js';
export { loadCallContext, extractFirstName } from './context/index.js';
export type {
  CallContext,
  LoadCallContextOptions,
  CallLogSnapshot,
  LeadSnapshot,
  BusinessSnapshot,
  BusinessSettingsSnapshot,
  JsonValue,
  CallIdsInput,
} from './context/index.js';
export { WriteBuffer, flush, Journal, Flusher, isTransientError, FINAL_CALL_STATUSES } from './buffer/index.js';
export type {
  WriteBufferOptions,
  BufferedWrite,
  WriteOperation,
  WriteOperationInput,
  LeadFields,
  FinalCallStatus,
  FlushOptions,
  FlushResult,
  JournalOptions,
  FlusherOptions,
  FlusherStats,
  FlusherEvents,
  FlushOutcome,
  RecoveryReport,
  DeadLetter,
} from './buffer/index.js';
