/** Node socket errors that mean "the database is not reachable right now". */
const TRANSIENT_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** SQLSTATE codes (and classes, 2 characters) worth retrying. */
const TRANSIENT_SQLSTATE = new Set([
  '08', // connection exception
  '53', // insufficient resources (too many connections, disk full, out of memory)
  '58', // system error (I/O)
  '25006', // read-only sql transaction: a failover to a standby, or a database set read-only for maintenance
  '57P01', // admin shutdown
  '57P02', // crash shutdown
  '57P03', // cannot connect now (starting up)
  '57014', // query canceled (a statement timeout)
  '40001', // serialization failure
  '40P01', // deadlock detected
  '55P03', // lock not available
]);

/** Errors without a code that pg, pg-pool and knex raise when a connection breaks or cannot be had. */
const TRANSIENT_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Timeout acquiring a connection/i;

/**
 * Whether a failed flush may succeed if tried again: the database was down
 * or unreachable, the connection broke, the transaction lost a
 * serialization or deadlock race, a statement timed out, the server is
 * read-only (a failover: the standby is promoted soon). Everything else —
 * data (22xxx) and integrity (23xxx) violations, a tenant mismatch, a bug —
 * would fail the same way forever. Looks through `cause` and
 * AggregateError's `errors`.
 */
export function isTransientError(error: unknown, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false;
  const { code, name, message, cause, errors } = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string') {
    if (TRANSIENT_ERRNO.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE.has(code) || TRANSIENT_SQLSTATE.has(code.slice(0, 2));
  }
  if (name === 'KnexTimeoutError') return true;
  if (typeof message === 'string' && TRANSIENT_MESSAGE.test(message)) return true;
  if (Array.isArray(errors) && errors.some((inner) => isTransientError(inner, depth + 1))) return true;
  return isTransientError(cause, depth + 1);
}

/**
 * The wait before retry number `attempt` (0-based): exponential from
 * `initialDelayMs`, capped at `maxDelayMs`, with "equal jitter" (a random
 * point in the upper half) so that calls that failed together do not retry
 * together.
 */
export function backoffDelayMs(attempt: number, initialDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
