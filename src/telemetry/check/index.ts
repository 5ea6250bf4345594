export { checkTraces } from './check-traces.js';
export type { CheckResult, CheckTracesOptions } from './check-traces.js';
export { TraceChecker } from './trace-checker.js';
export type { TraceViolation, TraceCheckerResult } from './trace-checker.js';
export { checkExitCode, checkVerdict, formatJson, formatText } from './format.js';
export type { CheckGateOptions, CheckVerdict } from './format.js';
export { expectNoLiveCallDbAccess, findLiveCallDbAccess } from './expect-no-live-call-db-access.js';
export type { SpanRecord, SkippedInput, SourcePosition } from './span-record.js';
