import { trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../defaults.js';

export type { Logger };

export interface LoggerOptions {
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

/**
 * A pino logger whose lines carry `trace_id` and `span_id` of the active
 * span, so a log line leads to its trace.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'live-call-guard' },
      redact: { paths: REDACTED_PATHS, censor: '***' },
      mixin() {
        const span = trace.getActiveSpan();
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
    },
    options.destination,
  );
}
