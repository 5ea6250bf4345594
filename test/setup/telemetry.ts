import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTelemetry } from '../../src/telemetry/sdk.js';
import { TEST_SPAN_EXPORTER } from '../helpers/spans.js';

// Runs before each test file, in its worker; the SDK starts once per worker
// (startTelemetry is idempotent) and the exporter lives on globalThis so that
// every test file of the worker sees the one the SDK writes to.
const holder = globalThis as { [TEST_SPAN_EXPORTER]?: InMemorySpanExporter };
if (!holder[TEST_SPAN_EXPORTER]) {
  const exporter = new InMemorySpanExporter();
  holder[TEST_SPAN_EXPORTER] = exporter;
  startTelemetry({ serviceName: 'live-call-guard-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
}
