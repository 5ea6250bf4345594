// live-call-guard/check: the guard's rule over exported traces (OTLP JSON,
// Jaeger JSON), for CI; and the test helper for spans in memory.
export { checkTraces } from './telemetry/check/check-traces.js';
export type { CheckResult, CheckTracesOptions } from './telemetry/check/check-traces.js';
export { checkExitCode, checkVerdict, formatJson, formatText } from './telemetry/check/format.js';
export type { CheckGateOptions, CheckVerdict } from './telemetry/check/format.js';
export type { TraceViolation, TraceCheckerResult } from './telemetry/check/trace-checker.js';
export { expectNoLiveCallDbAccess, findLiveCallDbAccess } from './telemetry/check/expect-no-live-call-db-access.js';
export type { SpanRecord, SkippedInput, SourcePosition } from './telemetry/check/span-record.js';
