import type { Attributes as OtelAttributes } from '@opentelemetry/api';
import { Attributes, SpanNames } from './attributes.js';

/**
 * THE predicate: what counts as "a database client span". One module, shared
 * by the live guard, the sampler and the offline trace checker.
 */
export const PG_INSTRUMENTATION_SCOPE = '@opentelemetry/instrumentation-pg';

/** Span names instrumentation-pg gives to connection set-up, not to statements. */
const CONNECTION_SPAN_NAMES = new Set(['pg.connect', 'pg-pool.connect']);

/** What the predicate needs to see of a span, live or read back from a file. */
export interface SpanLike {
  name: string;
  instrumentationScope?: { name: string } | undefined;
  attributes: OtelAttributes;
}

/** The attributes alone (at sampling time, there is no span yet). */
export function hasDatabaseAttributes(attributes: OtelAttributes | undefined): boolean {
  return attributes !== undefined && (attributes[Attributes.DB_SYSTEM_NAME] !== undefined || attributes[Attributes.DB_SYSTEM_LEGACY] !== undefined);
}

/** A span of a database client: instrumentation-pg's, or any with `db.system.name` / `db.system`. */
export function isDatabaseClientSpan(span: SpanLike): boolean {
  return span.instrumentationScope?.name === PG_INSTRUMENTATION_SCOPE || hasDatabaseAttributes(span.attributes);
}

/** A database span that sets up a connection rather than running a statement. */
export function isConnectionSpan(span: SpanLike): boolean {
  return CONNECTION_SPAN_NAMES.has(span.name);
}

/** The span that marks a live call: `in_live_call`, or any span with `live_call=true`. */
export function isLiveCallSpan(span: SpanLike): boolean {
  return span.attributes[Attributes.LIVE_CALL] === true || span.name === SpanNames.LIVE_CALL;
}

/** The statement text of a database span, under the current or the older attribute. */
export function queryTextOf(attributes: OtelAttributes): string | undefined {
  const text = attributes[Attributes.DB_QUERY_TEXT] ?? attributes[Attributes.DB_STATEMENT_LEGACY];
  return typeof text === 'string' ? text : undefined;
}
