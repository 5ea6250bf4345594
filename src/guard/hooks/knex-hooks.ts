import { context } from '@opentelemetry/api';
import { getCallScope, withCallScope } from '../call-scope.js';
import { captureStack } from '../call-site.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Where a knex builder was created during a live call. */
const BUILDER_SITE = Symbol('live-call-guard.call-site');

function inLiveCall(): boolean {
  return getCallScope(context.active())?.live !== undefined;
}

/**
 * `Client#queryBuilder` / `Client#raw`: a builder created during a live call
 * remembers where (the application's frame is on the stack now; it is gone
 * by the time knex sends the query).
 */
export function rememberBuilderSite(original: Method): Method {
  return function remembering(this: unknown, ...args: unknown[]): unknown {
    const builder = original.apply(this, args);
    if (builder !== null && typeof builder === 'object' && inLiveCall()) {
      (builder as { [BUILDER_SITE]?: Error })[BUILDER_SITE] = captureStack();
    }
    return builder;
  };
}

/**
 * A call that sends its statements later, from callbacks the application's
 * frames are gone from (knex's `Client#transaction`: BEGIN, COMMIT...;
 * pg-pool's `Pool#query`: the query runs once a client is acquired): they
 * run with the site of the call.
 */
export function runWithCallSite(original: Method): Method {
  return function starting(this: unknown, ...args: unknown[]): unknown {
    if (!inLiveCall()) return original.apply(this, args);
    return context.with(withCallScope(context.active(), { callSite: captureStack() }), () => original.apply(this, args));
  };
}

/** `Runner#query`: a builder's statement runs with the builder's remembered site. */
export function runWithBuilderSite(original: Method): Method {
  return function querying(this: unknown, ...args: unknown[]): unknown {
    const site = (this as { builder?: { [BUILDER_SITE]?: Error } }).builder?.[BUILDER_SITE];
    if (site === undefined) return original.apply(this, args);
    return context.with(withCallScope(context.active(), { callSite: site }), () => original.apply(this, args));
  };
}

/**
 * `Client_PG#acquireRawConnection`: knex's statements that set up a new
 * connection (`select version()`, `SET search_path`) belong to the query
 * that needed the connection.
 */
export function markConnectionSetup(original: Method): Method {
  return function acquiring(this: unknown, ...args: unknown[]): unknown {
    if (getCallScope(context.active()) === undefined) return original.apply(this, args);
    return context.with(withCallScope(context.active(), { connectionSetup: true }), () => original.apply(this, args));
  };
}
