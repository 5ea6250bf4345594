/**
 * Loaded with `node --import` (or first by the bin) so that the OpenTelemetry
 * SDK is running before `pg` is loaded: instrumentation-pg patches it on load.
 */
import { register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
const { startTelemetry } = await import('./telemetry/sdk.js');
startTelemetry();
