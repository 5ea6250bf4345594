export { startTelemetry, activeTelemetry, exportingProcessorsFromEnv } from './sdk.js';
export type { Telemetry, TelemetryOptions } from './sdk.js';
export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { startLiveCall, runInLiveCall, getLiveCall, allowDatabaseDuringLiveCall, getDatabaseAllowance } from './live-call.js';
export type { LiveCall, LiveCallInfo } from './live-call.js';
export { LiveCallGuardProcessor } from './live-call-guard-processor.js';
export type { LiveCallGuardOptions, LiveCallViolation } from './live-call-guard-processor.js';
export { LiveCallSampler, samplerFromEnv } from './live-call-sampler.js';
export { liveCallInstrumentations } from './instrumentations.js';
export { liveCallSpanProcessors } from './span-processors.js';
export type { LiveCallSpanProcessorsOptions, LiveCallSpanProcessors } from './span-processors.js';
export { LiveCallClientHooks } from './hooks/live-call-client-hooks.js';
export { CallDbReport, withCallDbReport, getCallDbReport, runInCallPhase } from './call-db-report.js';
export type { CallPhase, CallDbFigures } from './call-db-report.js';
export {
  isDatabaseClientSpan,
  isConnectionSpan,
  hasDatabaseAttributes,
  queryTextOf,
  PG_INSTRUMENTATION_SCOPE,
} from './db-span.js';
export type { SpanLike } from './db-span.js';
export { TraceFileExporter } from './trace-file-exporter.js';
export { SpanNames, Attributes, Events, Metrics, INSTRUMENTATION_NAME } from './attributes.js';
