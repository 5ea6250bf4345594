import { context, SpanKind, trace, type Context } from '@opentelemetry/api';
import { Attributes, INSTRUMENTATION_NAME, SpanNames } from './attributes.js';
import { getCallScope, withCallScope, type LiveCall, type LiveCallInfo } from './call-scope.js';
import { LiveIoTime } from './io-time.js';
import { startNow } from './start-now.js';

export type { LiveCall, LiveCallInfo };

/** The live call of a context, if any. */
export function getLiveCall(ctx: Context): LiveCall | undefined {
  return getCallScope(ctx)?.live;
}

/** The reason database access is allowed in this context, if it is. */
export function getDatabaseAllowance(ctx: Context): string | undefined {
  return getCallScope(ctx)?.allowance;
}

/** Starts an `in_live_call` span (child of `parent`) and returns the live call. */
export function startLiveCall(info: LiveCallInfo, parent: Context = context.active()): LiveCall {
  const span = trace.getTracer(INSTRUMENTATION_NAME).startSpan(
    SpanNames.LIVE_CALL,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        [Attributes.LIVE_CALL]: true,
        [Attributes.CALL_SID]: info.callSid,
        [Attributes.CONVERSATION_ID]: info.callSid,
        [Attributes.TENANT_ID]: String(info.tenantId),
      },
    },
    parent,
  );
  let ended = false;
  const budget = info.ioBudgetMs;
  if (budget !== undefined && (!Number.isFinite(budget) || budget < 0)) {
    throw new TypeError(`startLiveCall: ioBudgetMs must be a number of milliseconds >= 0 (received ${JSON.stringify(budget)})`);
  }
  const ioTime = new LiveIoTime(span, budget);
  const live: LiveCall = {
    callSid: info.callSid,
    tenantId: info.tenantId,
    ...(budget === undefined ? {} : { ioBudgetMs: budget }),
    span,
    ioTime,
    startTurn: () => ioTime.startTurn(),
    context: undefined as unknown as Context,
    run: (fn) => context.with(live.context, () => startNow(fn())),
    end: () => {
      if (ended) return;
      ended = true;
      ioTime.finish();
      span.end();
    },
  };
  (live as { context: Context }).context = withCallScope(trace.setSpan(parent, span), { live });
  return live;
}

/**
 * Runs `fn` as a live call from start to end: the `in_live_call` span ends
 * when `fn` returns or its promise settles.
 */
export function runInLiveCall<T>(info: LiveCallInfo, fn: () => T): T {
  const live = startLiveCall(info);
  let result: T;
  try {
    result = live.run(fn);
  } catch (error) {
    live.end();
    throw error;
  }
  if (result instanceof Promise) {
    return result.finally(() => live.end()) as T;
  }
  live.end();
  return result;
}

/**
 * The escape hatch: database access inside `fn` is allowed during a live call
 * and reported as allowed, with `reason`, never as a violation. Keep it rare:
 * each use stalls a live call.
 */
export function allowDatabaseDuringLiveCall<T>(reason: string, fn: () => T): T {
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw new TypeError('allowDatabaseDuringLiveCall needs a reason (a non-empty string)');
  }
  return context.with(withCallScope(context.active(), { allowance: reason }), () => startNow(fn()));
}
