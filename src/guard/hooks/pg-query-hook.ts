import { context } from '@opentelemetry/api';
import { LiveCallDbAccessError } from '../../errors.js';
import { getCallScope, withCallScope } from '../call-scope.js';
import { failPgQuery } from './pg-error-path.js';

type Query = (this: PgClient, ...args: unknown[]) => unknown;
interface PgClient {
  connection?: unknown;
}

/**
 * Wraps `pg.Client.prototype.query` (outside instrumentation-pg's wrapper):
 * the guard's block-mode rejection, thrown from the span processor's
 * `onStart` before a byte is written, leaves `client.query()` through the
 * client's own error path — a rejected promise, an error to the callback, an
 * `error` event on a submittable — never as a synchronous throw.
 */
export function wrapPgQuery(original: Query): Query {
  return function query(this: PgClient, ...args: unknown[]): unknown {
    try {
      // Inside a live call, the statement's text goes with it, so that a
      // blocked query (rejected before the instrumentation sets the span's
      // text) is reported with its SQL. Outside a call: nothing to do.
      const active = context.active();
      const scope = getCallScope(active);
      if (scope?.live && scope.statementText === undefined) {
        const text = statementTextOf(args[0]);
        if (text !== undefined) return context.with(withCallScope(active, { statementText: text }), () => original.apply(this, args));
      }
      return original.apply(this, args);
    } catch (error) {
      if (!(error instanceof LiveCallDbAccessError)) throw error;
      return failPgQuery(this, error, args);
    }
  };
}

/** The SQL of `client.query(text | { text } | new Query(...))`, at most 2 000 characters. */
function statementTextOf(first: unknown): string | undefined {
  const text = typeof first === 'string' ? first : (first as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text.slice(0, 2000) : undefined;
}
