import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { normaliseHexId, spanKindOfName, type SkippedInput, type SourcePosition, type SpanRecord } from './span-record.js';

interface JaegerTag {
  key?: unknown;
  type?: unknown;
  value?: unknown;
}

interface JaegerSpan {
  traceID?: unknown;
  spanID?: unknown;
  operationName?: unknown;
  references?: Array<{ refType?: unknown; traceID?: unknown; spanID?: unknown }>;
  /** Unix µs. */
  startTime?: unknown;
  /** µs. */
  duration?: unknown;
  tags?: JaegerTag[];
  logs?: Array<{ timestamp?: unknown; fields?: JaegerTag[] }>;
}

/** The Jaeger UI's download and the query API's answer: `{ data: [{ traceID, spans, processes }] }`. */
export interface JaegerDocument {
  data: Array<{ spans?: JaegerSpan[] }>;
}

export function isJaegerDocument(value: unknown): value is JaegerDocument {
  const data = (value as { data?: unknown } | null)?.data;
  return Array.isArray(data) && data.every((trace) => typeof trace === 'object' && trace !== null && 'spans' in trace);
}

/**
 * The spans of a Jaeger JSON document. The parent is the `CHILD_OF`
 * reference (`FOLLOWS_FROM` is not a parent); the scope comes from the
 * `otel.scope.name` / `otel.library.name` tags; span events are Jaeger logs
 * (`event` field = name).
 */
export function spansFromJaeger(
  document: JaegerDocument,
  source: SourcePosition,
  skip: (skipped: SkippedInput) => void,
): SpanRecord[] {
  const records: SpanRecord[] = [];
  for (const trace of document.data) {
    for (const span of trace.spans ?? []) {
      const traceId = normaliseHexId(span.traceID, 32);
      const spanId = normaliseHexId(span.spanID, 16);
      if (!traceId || !spanId) {
        skip({ ...source, reason: `a span without valid ids (traceID ${JSON.stringify(span.traceID)}, spanID ${JSON.stringify(span.spanID)})` });
        continue;
      }
      const parent = (span.references ?? []).find((reference) => reference.refType === 'CHILD_OF');
      const attributes = tagsToAttributes(span.tags);
      const scopeName = attributes['otel.scope.name'] ?? attributes['otel.library.name'];
      records.push({
        traceId,
        spanId,
        parentSpanId: parent ? normaliseHexId(parent.spanID, 16) : undefined,
        name: typeof span.operationName === 'string' ? span.operationName : '',
        instrumentationScope: typeof scopeName === 'string' ? { name: scopeName } : undefined,
        kind: spanKindOfName(attributes['span.kind']),
        attributes,
        events: (span.logs ?? []).map((log) => {
          const fields = tagsToAttributes(log.fields);
          const { event, ...rest } = fields;
          return { name: typeof event === 'string' ? event : '', attributes: rest, timeMs: microsToMs(log.timestamp) };
        }),
        ...spanTimes(span),
        source,
      });
    }
  }
  return records;
}

function tagsToAttributes(tags: JaegerTag[] | undefined): Attributes {
  const attributes: Attributes = {};
  for (const tag of tags ?? []) {
    if (typeof tag.key !== 'string' || tag.value === undefined || tag.value === null) continue;
    attributes[tag.key] = tagValue(tag) as AttributeValue;
  }
  return attributes;
}

function tagValue({ type, value }: JaegerTag): unknown {
  switch (type) {
    case 'bool':
      return value === true || value === 'true';
    case 'int64':
    case 'float64':
      return Number(value);
    default:
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value);
  }
}

function microsToMs(value: unknown): number | undefined {
  const us = typeof value === 'number' || typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(us) && us > 0 ? us / 1000 : undefined;
}

function spanTimes(span: JaegerSpan): { startMs?: number; endMs?: number } {
  const startMs = microsToMs(span.startTime);
  if (startMs === undefined) return {};
  const duration = Number(span.duration);
  return { startMs, endMs: startMs + (Number.isFinite(duration) && duration > 0 ? duration / 1000 : 0) };
}
