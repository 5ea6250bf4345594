// live-call-guard/check: the guard's rule over exported traces (OTLP JSON,
// Jaeger JSON), for CI. The in-memory test helper: live-call-guard/testing.
export { checkTraces } from './check-traces.js';
export type { CheckResult, CheckTracesOptions } from './check-traces.js';
// The CLI's verdict, for a CI script of your own (its text and JSON formats: `live-call-guard check --format`).
export { checkVerdict } from './format.js';
export type { CheckGateOptions, CheckVerdict } from './format.js';
// The CLI's `--sarif` file (SARIF 2.1.0, GitHub code scanning), from a result of checkTraces.
export { formatSarif } from './sarif.js';
export type { SarifOptions } from './sarif.js';
export type { TraceViolation, TraceCheckerResult } from './trace-checker.js';
export type { SpanRecord, SkippedInput, SourcePosition } from './span-record.js';
