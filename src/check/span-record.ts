import { SpanKind, type Attributes } from '@opentelemetry/api';

/** Where a span was read from, for messages. */
export interface SourcePosition {
  file: string;
  line: number;
}

/** A span read back from an export, in one shape whatever the format. */
export interface SpanRecord {
  /** 32 lowercase hex digits (a 64-bit Jaeger id is left-padded). */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  instrumentationScope: { name: string } | undefined;
  /** CLIENT, SERVER, ... when the export says. */
  kind?: SpanKind | undefined;
  attributes: Attributes;
  events: Array<{ name: string; attributes: Attributes; /** Unix ms, when exported. */ timeMs?: number }>;
  /** Unix ms (fractional), when exported: used by the HTML report's timeline, never by the verdict. */
  startMs?: number;
  endMs?: number;
  source: SourcePosition;
}

/** A part of the input that could not be used, and why. */
export interface SkippedInput extends SourcePosition {
  reason: string;
  /** Where in `line` (1-based, in characters) a cut or broken value ends, when known. */
  column?: number;
  /** The same place as a byte offset from the start of the file, when known. */
  byteOffset?: number;
}

/** Normalises a hex id: lowercase, left-padded to `length`; undefined if it is not hex. */
export function normaliseHexId(id: unknown, length: 16 | 32): string | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  let hex = id.toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) {
    // The protobuf JSON mapping writes bytes as base64.
    const bytes = Buffer.from(id, 'base64');
    if (bytes.length === 0 || bytes.toString('base64').replace(/=+$/, '') !== id.replace(/=+$/, '')) return undefined;
    hex = bytes.toString('hex');
  }
  if (hex.length > length || /^0+$/.test(hex)) return undefined;
  return hex.padStart(length, '0');
}

/** Unix nanoseconds (a string or a number, as OTLP JSON writes them) → Unix ms; undefined if absent or not a number. */
export function nanosToMs(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const ns = Number(value);
  return Number.isFinite(ns) && ns > 0 ? ns / 1e6 : undefined;
}

const OTLP_KINDS: Record<string, SpanKind> = {
  SPAN_KIND_INTERNAL: SpanKind.INTERNAL,
  SPAN_KIND_SERVER: SpanKind.SERVER,
  SPAN_KIND_CLIENT: SpanKind.CLIENT,
  SPAN_KIND_PRODUCER: SpanKind.PRODUCER,
  SPAN_KIND_CONSUMER: SpanKind.CONSUMER,
};

/** An OTLP span kind (1 internal … 5 consumer, or its enum name) as the API's SpanKind; undefined for unspecified. */
export function spanKindOfOtlp(kind: unknown): SpanKind | undefined {
  if (typeof kind === 'number') return kind >= 1 && kind <= 5 ? ((kind - 1) as SpanKind) : undefined;
  if (typeof kind === 'string') return OTLP_KINDS[kind] ?? (/^[1-5]$/.test(kind) ? ((Number(kind) - 1) as SpanKind) : undefined);
  return undefined;
}

/** Jaeger's `span.kind` tag (client, server, producer, consumer, internal) as the API's SpanKind. */
export function spanKindOfName(kind: unknown): SpanKind | undefined {
  return typeof kind === 'string' ? OTLP_KINDS[`SPAN_KIND_${kind.toUpperCase()}`] : undefined;
}
