// live-call-guard/guard: no database query during a live call, enforced by
// OpenTelemetry. Add liveCallInstrumentations() and liveCallSpanProcessors()
// to your own SDK; run each inbound media event inside the call's live scope.
// Loads neither knex nor twilio.
export { liveCallInstrumentations } from './telemetry/instrumentations.js';
export { liveCallSpanProcessors } from './telemetry/span-processors.js';
export type { LiveCallSpanProcessors, LiveCallSpanProcessorsOptions } from './telemetry/span-processors.js';
export { LiveCallGuardProcessor } from './telemetry/live-call-guard-processor.js';
export type { LiveCallGuardOptions, LiveCallViolation } from './telemetry/live-call-guard-processor.js';
export { LiveCallSampler, samplerFromEnv } from './telemetry/live-call-sampler.js';
export { startLiveCall, runInLiveCall, getLiveCall, allowDatabaseDuringLiveCall } from './telemetry/live-call.js';
export type { LiveCall, LiveCallInfo } from './telemetry/live-call.js';
export { CallDbReport, withCallDbReport, runInCallPhase } from './telemetry/call-db-report.js';
export type { CallDbFigures, CallPhase } from './telemetry/call-db-report.js';
export { TraceFileExporter } from './telemetry/trace-file-exporter.js';
export { SpanNames, Attributes, Events, Metrics } from './telemetry/attributes.js';
export { LiveCallDbAccessError } from './errors.js';
export { GUARD_MODES } from './defaults.js';
export type { GuardMode } from './defaults.js';
