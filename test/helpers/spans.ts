import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace';

export const TEST_SPAN_EXPORTER = Symbol.for('live-call-guard.test-span-exporter');

/** The in-memory exporter the test SDK writes every ended span to. */
export function spanExporter(): InMemorySpanExporter {
  const exporter = (globalThis as { [TEST_SPAN_EXPORTER]?: InMemorySpanExporter })[TEST_SPAN_EXPORTER];
  if (!exporter) throw new Error('test telemetry is not started (test/setup/telemetry.ts)');
  return exporter;
}

export const PG_SCOPE = '@opentelemetry/instrumentation-pg';

/** Ended pg spans of a trace (or all, without a trace id). */
export function pgSpans(traceId?: string): ReadableSpan[] {
  return spanExporter()
    .getFinishedSpans()
    .filter((span) => span.instrumentationScope.name === PG_SCOPE)
    .filter((span) => traceId === undefined || span.spanContext().traceId === traceId);
}
