// live-call-guard/sdk: a ready-made OpenTelemetry NodeSDK with the guard
// first, the sampler wrapped, pg instrumented and the exporters chosen from
// OTEL_* and LIVE_CALL_TRACE_FILE. Start it before anything loads pg.
export { startTelemetry, activeTelemetry } from './node-sdk.js';
export type { Telemetry, TelemetryOptions } from './node-sdk.js';
