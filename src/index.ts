// live-call-guard: the layer. Declare your app (tenant, start-of-call
// statement, writes); the layer loads one frozen context per call, buffers
// and journals the call's writes, and lands them in one transaction.
// Other entry points: live-call-guard/twilio (createCallLayer: mount, start,
// stop), /guard, /check, /sdk, /testing.
export { defineCallApp } from './call-app.js';
export type { CallApp, CallAppSpec } from './call-app.js';
export { loadContext } from './context/load-context.js';
export type { LoadContextOptions } from './context/load-context.js';
export type { CallContextSpec, StartOfCall } from './context/call-context-spec.js';
export { migrateLayer, layerMigrations, pruneStreamClaims } from './context/stream-claims.js';
export { sidSchema, positiveIntegerId } from './context/call-ids.js';
export { defineWrite } from './buffer/write-operation.js';
export type { CallRowContext, ColumnMerge, JsonValue, Row, WriteInput, WriteKind, WriteOperations, WriteOperationSpec } from './buffer/write-operation.js';
export type { EnqueuedWrite, JournaledWrite, WriteBuffer } from './buffer/write-buffer.js';
export type { CallWrites } from './buffer/call-writes.js';
export type { BufferedWrite, CallHeader, TenantId } from './buffer/journal-format.js';
export { Journal } from './buffer/journal.js';
export type { JournalHealth, JournalOptions } from './buffer/journal.js';
export type { CallJournalHandle, Durability, JournalBackend } from './buffer/journal-backend.js';
export { JetStreamJournal } from './buffer/jetstream-journal.js';
export type { JetStreamJournalOptions } from './buffer/jetstream-journal.js';
export { Flusher } from './buffer/flusher.js';
export type { FlusherEvents, FlusherOptions, FlusherStats, FlushOutcome, RecoveryReport } from './buffer/flusher.js';
export type { FlushedStatement, FlushResult } from './buffer/flush-transaction.js';
export type { DeadLetter } from './buffer/dead-letter.js';
export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { DEFAULTS, FSYNC_POLICIES } from './defaults.js';
export type { FsyncPolicy } from './defaults.js';
export {
  ErrorCodes,
  LiveCallGuardError,
  ConfigError,
  LiveCallDbAccessError,
  UnknownTenantError,
  CallContextLoadError,
  StreamReplayError,
  InvalidWriteError,
  WriteBufferFullError,
  WriteBufferClosedError,
  JournalError,
  TenantMismatchError,
} from './errors.js';
export type { ErrorCode } from './errors.js';
