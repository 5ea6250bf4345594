/**
 * Loaded with `node --import` (or first by the bin) so that the OpenTelemetry
 * SDK is running before `pg` is loaded: instrumentation-pg patches it on load.
 * Invalid configuration throws here, before anything else starts.
 */
import { register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
const { loadConfig } = await import('./config.js');
const { createLogger } = await import('../src/index.js');
const { startTelemetry } = await import('../src/sdk/index.js');
const { prometheusReader } = await import('./metrics-endpoint.js');
const config = loadConfig();
// Metrics are served as Prometheus text on GET /metrics (reference/metrics-endpoint.ts);
// OTEL_METRICS_EXPORTER (otlp, console) or an OTLP endpoint adds its readers (startTelemetry).
startTelemetry({ guard: { mode: config.guardMode, logger: createLogger({ level: config.logLevel }) }, metricReaders: [prometheusReader()] });
