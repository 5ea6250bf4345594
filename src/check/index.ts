// live-call-guard/check: the guard's rule over exported traces (OTLP JSON,
// Jaeger JSON), for CI. The in-memory test helper: live-call-guard/testing.
export { checkTraces } from './check-traces.js';
export type { CheckResult, CheckTracesOptions } from './check-traces.js';
export { checkExitCode, checkVerdict, formatJson, formatText } from './format.js';
export type { CheckGateOptions, CheckVerdict } from './format.js';
export type { TraceViolation, TraceCheckerResult } from './trace-checker.js';
export type { SpanRecord, SkippedInput, SourcePosition } from './span-record.js';
