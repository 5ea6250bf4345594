/**
 * Fails a `pg` query the way `pg.Client#query` fails one that cannot run
 * (a closed client, a read timeout): never a synchronous throw.
 *
 * - a submittable (`new Query(...)`, a cursor, a query stream): its own
 *   `handleError` on the next tick (callback, else an `error` event), and the
 *   submittable is returned;
 * - a callback (`query(text, cb)`, `query(text, values, cb)`, `{ callback }`):
 *   called with the error on the next tick;
 * - else a rejected promise.
 */
export function failPgQuery(client: { connection?: unknown }, error: Error, args: unknown[]): unknown {
  const [config, values, callback] = args;
  if (isSubmittable(config)) {
    if (!config.callback) {
      if (typeof values === 'function') config.callback = values;
      else if (typeof callback === 'function') config.callback = callback;
    }
    process.nextTick(() => config.handleError(error, client.connection));
    return config;
  }
  const cb =
    typeof values === 'function'
      ? values
      : typeof callback === 'function'
        ? callback
        : typeof (config as { callback?: unknown } | null)?.callback === 'function'
          ? (config as { callback: unknown }).callback
          : undefined;
  if (cb) {
    process.nextTick(() => (cb as (error: Error) => void)(error));
    return undefined;
  }
  return Promise.reject(error);
}

interface Submittable {
  submit: (...args: unknown[]) => unknown;
  handleError: (error: Error, connection: unknown) => void;
  callback?: unknown;
}

function isSubmittable(value: unknown): value is Submittable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Submittable).submit === 'function' &&
    typeof (value as Submittable).handleError === 'function'
  );
}
