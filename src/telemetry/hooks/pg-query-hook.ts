import { LiveCallDbAccessError } from '../../errors.js';
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
      return original.apply(this, args);
    } catch (error) {
      if (!(error instanceof LiveCallDbAccessError)) throw error;
      return failPgQuery(this, error, args);
    }
  };
}
