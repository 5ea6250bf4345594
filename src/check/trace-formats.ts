import { isJaegerDocument, spansFromJaeger, type JaegerDocument } from './jaeger-json.js';
import { isOtlpTracesDocument, spansFromOtlp, type OtlpTracesDocument } from './otlp-json.js';
import type { SkippedInput, SourcePosition, SpanRecord } from './span-record.js';

export const KNOWN_FORMATS =
  'OTLP JSON (resourceSpans), a Jaeger v2 api_v3 answer (result.resourceSpans), or Jaeger JSON (data[].spans, or one trace: traceID + spans)';

/**
 * The spans of one JSON value in any format `check` reads, or undefined if
 * it is none of them:
 * - OTLP JSON `{ resourceSpans }` (Collector file exporter line, OTLP/HTTP body);
 * - Jaeger v2 `api_v3` answers: `{ result: { resourceSpans } }` (GetTrace,
 *   and each message of the FindTraces stream);
 * - Jaeger JSON `{ data: [{ traceID, spans, processes }] }` (query API, UI
 *   download) and one bare trace `{ traceID, spans }`;
 * - an array of any of these.
 */
export function spansOfValue(
  value: unknown,
  source: SourcePosition,
  skip: (skipped: SkippedInput) => void,
): SpanRecord[] | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0) return [];
    const parts = value.map((item) => spansOfValue(item, source, skip));
    return parts.some((part) => part === undefined) ? undefined : parts.flat() as SpanRecord[];
  }
  if (isOtlpTracesDocument(value)) return spansFromOtlp(value, source, skip);
  const result = (value as { result?: unknown } | null)?.result;
  if (isOtlpTracesDocument(result)) return spansFromOtlp(result as OtlpTracesDocument, source, skip);
  if (isJaegerDocument(value)) return spansFromJaeger(value, source, skip);
  if (isBareJaegerTrace(value)) return spansFromJaeger({ data: [value] } as JaegerDocument, source, skip);
  return undefined;
}

function isBareJaegerTrace(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { traceID?: unknown }).traceID === 'string' &&
    Array.isArray((value as { spans?: unknown }).spans)
  );
}
