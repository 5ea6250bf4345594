import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { nanosToMs, normaliseHexId, spanKindOfOtlp, type SkippedInput, type SourcePosition, type SpanRecord } from './span-record.js';

interface OtlpKeyValue {
  key?: unknown;
  value?: OtlpAnyValue;
}

interface OtlpAnyValue {
  stringValue?: unknown;
  boolValue?: unknown;
  intValue?: unknown;
  doubleValue?: unknown;
  bytesValue?: unknown;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}

interface OtlpSpan {
  traceId?: unknown;
  spanId?: unknown;
  parentSpanId?: unknown;
  name?: unknown;
  kind?: unknown;
  startTimeUnixNano?: unknown;
  endTimeUnixNano?: unknown;
  attributes?: OtlpKeyValue[];
  events?: Array<{ name?: unknown; timeUnixNano?: unknown; attributes?: OtlpKeyValue[] }>;
}

interface OtlpScopeSpans {
  scope?: { name?: unknown };
  instrumentationLibrary?: { name?: unknown };
  spans?: OtlpSpan[];
}

/** `TracesData` / `ExportTraceServiceRequest`, as OTLP JSON. */
export interface OtlpTracesDocument {
  resourceSpans: Array<{ scopeSpans?: OtlpScopeSpans[]; instrumentationLibrarySpans?: OtlpScopeSpans[] }>;
}

export function isOtlpTracesDocument(value: unknown): value is OtlpTracesDocument {
  return typeof value === 'object' && value !== null && Array.isArray((value as { resourceSpans?: unknown }).resourceSpans);
}

/**
 * The spans of one OTLP JSON document (the Collector file exporter's line, or
 * a whole file): `scopeSpans` and the older `instrumentationLibrarySpans`,
 * hex or base64 ids, attribute values of every OTLP kind.
 */
export function spansFromOtlp(
  document: OtlpTracesDocument,
  source: SourcePosition,
  skip: (skipped: SkippedInput) => void,
): SpanRecord[] {
  const records: SpanRecord[] = [];
  for (const resource of document.resourceSpans) {
    for (const scopeSpans of [...(resource.scopeSpans ?? []), ...(resource.instrumentationLibrarySpans ?? [])]) {
      const scopeName = scopeSpans.scope?.name ?? scopeSpans.instrumentationLibrary?.name;
      for (const span of scopeSpans.spans ?? []) {
        const traceId = normaliseHexId(span.traceId, 32);
        const spanId = normaliseHexId(span.spanId, 16);
        if (!traceId || !spanId) {
          skip({ ...source, reason: `a span without valid ids (traceId ${JSON.stringify(span.traceId)}, spanId ${JSON.stringify(span.spanId)})` });
          continue;
        }
        records.push({
          traceId,
          spanId,
          parentSpanId: normaliseHexId(span.parentSpanId, 16),
          name: typeof span.name === 'string' ? span.name : '',
          instrumentationScope: typeof scopeName === 'string' ? { name: scopeName } : undefined,
          kind: spanKindOfOtlp(span.kind),
          attributes: attributesFromOtlp(span.attributes),
          events: (span.events ?? []).map((event) => ({
            name: typeof event.name === 'string' ? event.name : '',
            attributes: attributesFromOtlp(event.attributes),
            timeMs: nanosToMs(event.timeUnixNano),
          })),
          startMs: nanosToMs(span.startTimeUnixNano),
          endMs: nanosToMs(span.endTimeUnixNano),
          source,
        });
      }
    }
  }
  return records;
}

function attributesFromOtlp(list: OtlpKeyValue[] | undefined): Attributes {
  const attributes: Attributes = {};
  for (const { key, value } of list ?? []) {
    if (typeof key !== 'string' || !value) continue;
    const converted = anyValue(value);
    if (converted !== undefined) attributes[key] = converted as AttributeValue;
  }
  return attributes;
}

function anyValue(value: OtlpAnyValue): unknown {
  if (value.stringValue !== undefined) return String(value.stringValue);
  if (value.boolValue !== undefined) return value.boolValue === true || value.boolValue === 'true';
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.bytesValue !== undefined) return String(value.bytesValue);
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue) {
    return JSON.stringify(Object.fromEntries((value.kvlistValue.values ?? []).map((kv) => [kv.key, kv.value ? anyValue(kv.value) : null])));
  }
  return undefined;
}
