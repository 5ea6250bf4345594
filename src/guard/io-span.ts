import { SpanKind, type Attributes as OtelAttributes } from '@opentelemetry/api';

/**
 * THE predicate: what counts as "an outbound I/O span" and of which kind.
 * One module, shared by the live guard, the sampler and the offline trace
 * checker.
 */
export const PG_INSTRUMENTATION_SCOPE = '@opentelemetry/instrumentation-pg';

/** The kinds of outbound I/O the guard judges. */
export const IO_KINDS = ['db', 'http', 'redis', 'messaging', 'rpc'] as const;
export type IoKind = (typeof IO_KINDS)[number];

/** Instrumentations whose spans are outbound I/O of a known kind (their SERVER spans excepted). */
const SCOPE_KINDS: ReadonlyMap<string, IoKind> = new Map<string, IoKind>([
  [PG_INSTRUMENTATION_SCOPE, 'db'],
  ['@opentelemetry/instrumentation-http', 'http'],
  ['@opentelemetry/instrumentation-undici', 'http'],
  ['@opentelemetry/instrumentation-ioredis', 'redis'],
  ['@opentelemetry/instrumentation-redis', 'redis'],
  ['@opentelemetry/instrumentation-redis-4', 'redis'],
]);

/** Span names clients give to connection set-up, not to statements or commands. */
const CONNECTION_SPAN_NAMES = new Set(['pg.connect', 'pg-pool.connect', 'redis-connect']);
const IOREDIS_SCOPE = '@opentelemetry/instrumentation-ioredis';

/** What the predicate needs to see of a span, live or read back from a file. */
export interface SpanLike {
  name: string;
  instrumentationScope?: { name: string } | undefined;
  attributes: OtelAttributes;
  /** Undefined when the export does not say (then only database spans are recognised by attributes). */
  kind?: SpanKind | undefined;
}

/** The database system of a span's attributes (`db.system.name`, older `db.system`). */
function databaseSystem(attributes: OtelAttributes): unknown {
  return attributes['db.system.name'] ?? attributes['db.system'];
}

/**
 * The I/O kind of a span about to start, from its attributes and kind alone
 * (at sampling time there is no span yet): a `db.system(.name)` (redis is
 * `redis`), or on a CLIENT/PRODUCER span `http.request.method` (older
 * `http.method`), `messaging.system` or `rpc.system`.
 */
export function ioKindOfAttributes(attributes: OtelAttributes | undefined, kind: SpanKind | undefined): IoKind | undefined {
  if (attributes === undefined) return undefined;
  const system = databaseSystem(attributes);
  if (system !== undefined) return system === 'redis' ? 'redis' : 'db';
  if (kind !== SpanKind.CLIENT && kind !== SpanKind.PRODUCER) return undefined;
  if (attributes['http.request.method'] !== undefined || attributes['http.method'] !== undefined) return 'http';
  if (attributes['messaging.system'] !== undefined) return 'messaging';
  if (attributes['rpc.system'] !== undefined) return 'rpc';
  return undefined;
}

/** The I/O kind of a span: by its instrumentation, else by its attributes; undefined if it is not outbound I/O. */
export function ioKindOf(span: SpanLike): IoKind | undefined {
  const scope = span.instrumentationScope?.name;
  const byScope = scope === undefined ? undefined : SCOPE_KINDS.get(scope);
  if (byScope !== undefined && span.kind !== SpanKind.SERVER) return byScope;
  return ioKindOfAttributes(span.attributes, span.kind);
}

/** The attributes alone (at sampling time, there is no span yet). */
export function hasDatabaseAttributes(attributes: OtelAttributes | undefined): boolean {
  return attributes !== undefined && databaseSystem(attributes) !== undefined;
}

/** A span of a database client: instrumentation-pg's, or any with `db.system.name` / `db.system`. */
export function isDatabaseClientSpan(span: SpanLike): boolean {
  return span.instrumentationScope?.name === PG_INSTRUMENTATION_SCOPE || hasDatabaseAttributes(span.attributes);
}

/** An I/O span that sets up a connection rather than running a statement or a request. */
export function isConnectionSpan(span: SpanLike): boolean {
  return CONNECTION_SPAN_NAMES.has(span.name) || (span.name === 'connect' && span.instrumentationScope?.name === IOREDIS_SCOPE);
}

/** The span that marks a live call: `in_live_call`, or any span with `live_call=true`. */
export function isLiveCallSpan(span: SpanLike): boolean {
  return span.attributes['live_call'] === true || span.name === 'in_live_call';
}

/** The statement text of a database span, under the current or the older attribute. */
export function queryTextOf(attributes: OtelAttributes): string | undefined {
  const text = attributes['db.query.text'] ?? attributes['db.statement'];
  return typeof text === 'string' ? text : undefined;
}

/** The host an I/O span talks to: `server.address` (older `net.peer.name`), else the host of its URL. */
export function hostOf(attributes: OtelAttributes): string | undefined {
  const address = attributes['server.address'] ?? attributes['net.peer.name'];
  if (typeof address === 'string' && address !== '') return address.toLowerCase();
  const url = urlOf(attributes);
  if (url === undefined) return undefined;
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** The full URL of an HTTP span (`url.full`, older `http.url`). */
export function urlOf(attributes: OtelAttributes): string | undefined {
  const url = attributes['url.full'] ?? attributes['http.url'];
  return typeof url === 'string' ? url : undefined;
}

/** One line saying what an I/O span did: the statement, the command, or `METHOD URL`. */
export function ioDescriptionOf(kind: IoKind, span: SpanLike): string {
  const query = queryTextOf(span.attributes);
  if (query !== undefined) return query;
  const { attributes } = span;
  if (kind === 'http') {
    const method = attributes['http.request.method'] ?? attributes['http.method'];
    const url = urlOf(attributes);
    if (url !== undefined) return `${typeof method === 'string' ? method : 'HTTP'} ${url}`;
  }
  if (kind === 'messaging') {
    const destination = attributes['messaging.destination.name'];
    if (typeof destination === 'string') return `${String(attributes['messaging.system'])} ${destination}`;
  }
  if (kind === 'rpc') {
    const method = attributes['rpc.method'];
    const service = attributes['rpc.service'];
    if (typeof method === 'string') return `${String(attributes['rpc.system'])} ${typeof service === 'string' ? `${service}/` : ''}${method}`;
  }
  return span.name;
}
