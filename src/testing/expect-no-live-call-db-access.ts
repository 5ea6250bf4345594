import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { TraceChecker, type TraceViolation } from '../check/trace-checker.js';
import type { SpanRecord } from '../check/span-record.js';

/** The violations in spans held in memory (e.g. the SDK's InMemorySpanExporter). */
export function findLiveCallDbAccess(spans: readonly ReadableSpan[]): TraceViolation[] {
  const checker = new TraceChecker();
  spans.forEach((span, index) => checker.add(recordOf(span, index)));
  return checker.finish().violations;
}

/**
 * A test assertion for any runner: throws an Error listing each database
 * query made during a live call in `spans`, e.g.
 * `expectNoLiveCallDbAccess(exporter.getFinishedSpans())`.
 */
export function expectNoLiveCallDbAccess(spans: readonly ReadableSpan[]): void {
  const violations = findLiveCallDbAccess(spans);
  if (violations.length === 0) return;
  const lines = violations.map(
    (v) => `- call ${v.callSid ?? '(unknown)'}: ${v.query ?? v.spanName}${v.blocked ? ' [blocked]' : ''}${v.stack ? `\n    ${v.stack.split('\n')[0]}` : ''}`,
  );
  throw new Error(`expected no database query during a live call, found ${violations.length}:\n${lines.join('\n')}`);
}

function recordOf(span: ReadableSpan, index: number): SpanRecord {
  const { traceId, spanId } = span.spanContext();
  return {
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    instrumentationScope: span.instrumentationScope,
    attributes: span.attributes,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes ?? {} })),
    source: { file: '<memory>', line: index + 1 },
  };
}
