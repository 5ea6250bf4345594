import { trace } from '@opentelemetry/api';
import pino from 'pino';
import type { LogLevel } from './defaults.js';

/**
 * What the layer logs to: a structured logger whose methods take an object
 * of fields and a message. pino satisfies it, and so does `console`
 * (without `child`, the layer adds its fields to each line itself).
 */
export interface Logger {
  error(fields: object, message?: string): void;
  warn(fields: object | string, message?: string): void;
  info(fields: object | string, message?: string): void;
  child?(bindings: Record<string, unknown>): Logger;
}

/** A logger whose lines carry `bindings`: the logger's own `child` when it has one. */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  if (typeof logger.child === 'function') return logger.child(bindings);
  const withBindings = (fields: object | string): object => (typeof fields === 'string' ? { ...bindings } : { ...bindings, ...fields });
  const messageOf = (fields: object | string, message?: string): string | undefined => (typeof fields === 'string' ? fields : message);
  return {
    error: (fields, message) => logger.error(withBindings(fields), messageOf(fields, message)),
    warn: (fields, message) => logger.warn(withBindings(fields), messageOf(fields, message)),
    info: (fields, message) => logger.info(withBindings(fields), messageOf(fields, message)),
    child: (more) => childLogger(logger, { ...bindings, ...more }),
  };
}

export interface LoggerOptions {
  /** `service` on every line. Default `live-call-guard`. */
  name?: string;
  /** Default `info`. */
  level?: LogLevel;
  /** Where lines go. Default stdout. */
  destination?: pino.DestinationStream;
}

/** Field paths whose values never reach a log line. */
const REDACTED_PATHS = [
  'password',
  'token',
  'authToken',
  'databaseUrl',
  '*.password',
  '*.token',
  '*.authToken',
  '*.databaseUrl',
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
];

/** Per logger: whether its bindings hold a trace_id, and the bindings (pino's serialised string) that answer is for. */
const traceIdBindings = new WeakMap<object, { chindings: unknown; has: boolean }>();

/**
 * Whether `logger`'s own bindings carry a trace_id. pino's `bindings()`
 * parses them (JSON.parse) on each call: the answer is kept until the
 * bindings change (`setBindings` gives them a new string).
 */
function carriesTraceId(logger: pino.Logger): boolean {
  const chindings = (logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym];
  const cached = traceIdBindings.get(logger);
  if (cached !== undefined && cached.chindings === chindings) return cached.has;
  const has = 'trace_id' in logger.bindings();
  traceIdBindings.set(logger, { chindings, has });
  return has;
}

/**
 * A pino logger whose lines carry `trace_id` and `span_id` of the active
 * span, so a log line leads to its trace.
 */
export function createLogger(options: LoggerOptions = {}): pino.Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.name ?? 'live-call-guard' },
      redact: { paths: REDACTED_PATHS, censor: '***' },
      // The active span's ids, unless the line's logger already carries a
      // trace_id (a call's logger does): one trace_id per line.
      mixin(_fields, _level, logger) {
        const span = trace.getActiveSpan();
        if (!span || carriesTraceId(logger)) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
    },
    options.destination,
  );
}
