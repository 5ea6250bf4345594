// live-call-guard/guard: no database query during a live call, enforced by
// OpenTelemetry. Add liveCallInstrumentations() and liveCallSpanProcessors()
// to your own SDK; run each inbound media event inside the call's live scope.
// Loads neither knex nor twilio.
export { liveCallInstrumentations } from './instrumentations.js';
export type { LiveCallInstrumentationsOptions } from './instrumentations.js';
export type { HostPattern } from './io-allowlist.js';
export { IO_KINDS } from './io-span.js';
export type { IoKind } from './io-span.js';
export { liveCallSpanProcessors } from './span-processors.js';
export type { LiveCallSpanProcessors, LiveCallSpanProcessorsOptions } from './span-processors.js';
export { LiveCallGuardProcessor } from './live-call-guard-processor.js';
export type { LiveCallGuardOptions, LiveCallViolation } from './live-call-guard-processor.js';
export { LiveCallSampler, samplerFromEnv } from './live-call-sampler.js';
export { startLiveCall, runInLiveCall, getLiveCall, allowDatabaseDuringLiveCall } from './live-call.js';
export type { LiveCall, LiveCallInfo } from './live-call.js';
export { CallDbReport, withCallDbReport, runInCallPhase } from './call-db-report.js';
export type { CallDbFigures, CallPhase } from './call-db-report.js';
export { TraceFileExporter } from './trace-file-exporter.js';
export { SpanNames, Attributes, Events, Metrics } from './attributes.js';
export { LiveCallDbAccessError, LiveCallIoAccessError } from '../errors.js';
export { GUARD_MODES } from '../defaults.js';
export type { GuardMode } from '../defaults.js';
