import { createRequire } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { PgInstrumentation, type PgInstrumentationConfig } from '@opentelemetry/instrumentation-pg';
import { LiveCallClientHooks } from './hooks/live-call-client-hooks.js';

const require = createRequire(import.meta.url);

/** What `liveCallInstrumentations` adds besides instrumentation-pg. Each is on by default when its package is installed. */
export interface LiveCallInstrumentationsOptions {
  /** instrumentation-pg's config. */
  pg?: PgInstrumentationConfig;
  /** node:http / https clients (`@opentelemetry/instrumentation-http`; incoming requests are not traced by it). Default true. */
  http?: boolean;
  /** fetch and undici (`@opentelemetry/instrumentation-undici`). Default true. */
  undici?: boolean;
  /** ioredis (`@opentelemetry/instrumentation-ioredis`). Default true. */
  ioredis?: boolean;
  /** node-redis (`@opentelemetry/instrumentation-redis`). Default true. */
  redis?: boolean;
}

type Loaded = new (config?: Record<string, unknown>) => Instrumentation;

/** An optional instrumentation's class, or undefined when its package is not installed. */
function optional(pkg: string, exportName: string): Loaded | undefined {
  try {
    return (require(pkg) as Record<string, Loaded>)[exportName];
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

/**
 * The instrumentations the guard needs, in the order it needs them:
 * instrumentation-pg, the guard's client hooks (which wrap it), then the
 * outbound I/O clients the guard judges on the live path, each one whose
 * package is installed: node:http (outgoing only), fetch/undici, ioredis,
 * node-redis. Give them to your own `NodeSDK`
 * (`instrumentations: [...liveCallInstrumentations(), ...yours]`) instead of
 * instances of your own of these.
 */
export function liveCallInstrumentations(options: LiveCallInstrumentationsOptions | PgInstrumentationConfig = {}): Instrumentation[] {
  const opts: LiveCallInstrumentationsOptions = isOptions(options) ? options : { pg: options };
  const list: Instrumentation[] = [new PgInstrumentation(opts.pg ?? {}), new LiveCallClientHooks()];
  const add = (enabled: boolean | undefined, pkg: string, name: string, config: Record<string, unknown> = {}): void => {
    if (enabled === false) return;
    const Class = optional(pkg, name);
    if (Class) list.push(new Class(config));
  };
  add(opts.http, '@opentelemetry/instrumentation-http', 'HttpInstrumentation', { disableIncomingRequestInstrumentation: true });
  add(opts.undici, '@opentelemetry/instrumentation-undici', 'UndiciInstrumentation');
  add(opts.ioredis, '@opentelemetry/instrumentation-ioredis', 'IORedisInstrumentation');
  add(opts.redis, '@opentelemetry/instrumentation-redis', 'RedisInstrumentation');
  return list;
}

const OPTION_KEYS = new Set(['pg', 'http', 'undici', 'ioredis', 'redis']);

/** The newer options object, or (as before) instrumentation-pg's config alone. */
function isOptions(value: object): value is LiveCallInstrumentationsOptions {
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => OPTION_KEYS.has(key));
}
