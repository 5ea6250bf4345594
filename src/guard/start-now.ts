/**
 * A lazy thenable (a Knex builder runs its query only when `then` is called)
 * is started now, inside the current context, and returned as a Promise: else
 * its query would run in whatever context awaits it later.
 */
export function startNow<T>(result: T): T {
  if (result === null || typeof result !== 'object' || result instanceof Promise) return result;
  const then = (result as { then?: unknown }).then;
  if (typeof then !== 'function') return result;
  return new Promise((resolve, reject) => {
    then.call(result, resolve, reject);
  }) as T;
}
