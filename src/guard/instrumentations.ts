import type { Instrumentation } from '@opentelemetry/instrumentation';
import { PgInstrumentation, type PgInstrumentationConfig } from '@opentelemetry/instrumentation-pg';
import { LiveCallClientHooks } from './hooks/live-call-client-hooks.js';

/**
 * The instrumentations the guard needs, in the order it needs them:
 * instrumentation-pg, then the guard's client hooks (which wrap it). Give
 * them to your own `NodeSDK` (`instrumentations: [...liveCallInstrumentations(), ...yours]`)
 * instead of a `PgInstrumentation` of your own.
 */
export function liveCallInstrumentations(pg: PgInstrumentationConfig = {}): Instrumentation[] {
  return [new PgInstrumentation(pg), new LiveCallClientHooks()];
}
