import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll } from 'vitest';
import { prometheusReader } from '../../reference/metrics-endpoint.js';
import { startTelemetry } from '../../src/sdk/node-sdk.js';
import { TEST_SPAN_EXPORTER } from '../helpers/spans.js';
import { SwitchableSampler, TEST_TELEMETRY, TestMetricReader, type TestTelemetry } from '../helpers/telemetry.js';

// Runs before each test file, in its worker; the SDK starts once per worker
// (startTelemetry is idempotent) and its parts live on globalThis so that
// every test file of the worker sees the ones the SDK uses.
const holder = globalThis as { [TEST_SPAN_EXPORTER]?: InMemorySpanExporter; [TEST_TELEMETRY]?: TestTelemetry };
const started = holder[TEST_TELEMETRY];
if (!holder[TEST_SPAN_EXPORTER]) {
  const exporter = new InMemorySpanExporter();
  const sampler = new SwitchableSampler();
  const metrics = new TestMetricReader();
  const telemetry = startTelemetry({
    serviceName: 'live-call-guard-test',
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    sampler,
    // The reference app's /metrics serves what this one reads (as register.ts sets it up).
    metricReaders: [metrics, prometheusReader()],
    guard: { mode: 'report' },
  });
  holder[TEST_SPAN_EXPORTER] = exporter;
  holder[TEST_TELEMETRY] = { guard: telemetry.guard, sampler, metrics, telemetry };
}

// Workers are ended without an exit the SDK could see: after each test file,
// export what the span processors hold (LIVE_CALL_TRACE_FILE's batch among
// them), so the trace file is complete when `live-call-guard check` reads it.
afterAll(async () => {
  await (started ?? holder[TEST_TELEMETRY])!.telemetry.forceFlush();
});
