import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { INSTRUMENTATION_NAME } from '../attributes.js';
import { markConnectionSetup, rememberBuilderSite, runWithBuilderSite, runWithCallSite } from './knex-hooks.js';
import { wrapPgQuery } from './pg-query-hook.js';

type Prototype = Record<string, unknown>;
interface HasPrototype {
  prototype: Prototype;
}

const PG_VERSIONS = ['>=8.0.3 <9'];
const PG_POOL_VERSIONS = ['>=2.0.0 <4'];
const KNEX_VERSIONS = ['>=2 <4'];

/**
 * The guard's small hooks into the clients, registered like an
 * instrumentation and AFTER `PgInstrumentation` (its `pg` hook must wrap
 * instrumentation-pg's):
 *
 * - pg: a query the guard blocks fails through the client's own error path
 *   (promise, callback, `error` event), never as a synchronous throw;
 * - pg-pool: `Pool#query` remembers the application's call site;
 * - knex: the call site of a builder created (or a transaction started)
 *   during a live call, and its connection-setup statements marked as such.
 *
 * `liveCallInstrumentations()` returns both in the right order.
 */
export class LiveCallClientHooks extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super(`${INSTRUMENTATION_NAME}/client-hooks`, '0.1.0', config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    // Both where instrumentation-pg hooks pg: the file (`import pg` from ESM
    // loads only it through require) and the module (which re-wraps the file's patch).
    const pgClientFile = new InstrumentationNodeModuleFile(
      'pg/lib/client.js',
      PG_VERSIONS,
      (exports: unknown) => {
        this.patchOutermost(classOf(exports));
        return exports;
      },
      (exports: unknown) => this.unpatchOutermost(classOf(exports)),
    );
    const pg = new InstrumentationNodeModuleDefinition(
      'pg',
      PG_VERSIONS,
      (exports: unknown) => {
        this.patchOutermost(clientOf(exports));
        return exports;
      },
      (exports: unknown) => this.unpatchOutermost(clientOf(exports)),
      [pgClientFile],
    );
    const knex = new InstrumentationNodeModuleDefinition('knex', KNEX_VERSIONS, undefined, undefined, [
      this.file('knex/lib/client.js', {
        queryBuilder: rememberBuilderSite,
        raw: rememberBuilderSite,
        transaction: runWithCallSite,
      }),
      this.file('knex/lib/execution/runner.js', { query: runWithBuilderSite }),
      // The PostgreSQL dialect has its own queryBuilder and transaction.
      this.file('knex/lib/dialects/postgres/index.js', {
        acquireRawConnection: markConnectionSetup,
        queryBuilder: rememberBuilderSite,
        transaction: runWithCallSite,
      }),
    ]);
    const pgPool = new InstrumentationNodeModuleDefinition(
      'pg-pool',
      PG_POOL_VERSIONS,
      (exports: unknown) => {
        this.patch(classOf(exports), 'query', runWithCallSite);
        return exports;
      },
      (exports: unknown) => this.unpatch(classOf(exports), ['query']),
    );
    return [pg, pgPool, knex];
  }

  private file(name: string, wrappers: Record<string, (original: never) => unknown>): InstrumentationNodeModuleFile {
    const names = Object.keys(wrappers);
    return new InstrumentationNodeModuleFile(
      name,
      KNEX_VERSIONS,
      (exports: unknown) => {
        for (const method of names) this.patch(classOf(exports), method, wrappers[method]!);
        return exports;
      },
      (exports: unknown) => this.unpatch(classOf(exports), names),
    );
  }

  /**
   * Wraps `Client#query` outside instrumentation-pg's wrapper. When
   * instrumentation-pg re-patches (it unwraps what it finds, then wraps),
   * unwrapping ours also unwraps its own, so it never wraps itself twice;
   * the module hook then puts ours back outside.
   */
  private patchOutermost(target: HasPrototype | undefined): void {
    const proto = target?.prototype;
    if (!proto || typeof proto.query !== 'function') {
      this._diag.warn('cannot hook pg Client#query: not found');
      return;
    }
    if ((proto.query as { __liveCallGuard?: boolean }).__liveCallGuard) return;
    const inner = proto.query as Query;
    const wrapped = wrapPgQuery(inner) as Query & Record<string, unknown>;
    const define = (name: string, value: unknown): void => {
      Object.defineProperty(wrapped, name, { configurable: true, enumerable: false, writable: true, value });
    };
    define('__liveCallGuard', true);
    define('__original', inner);
    define('__wrapped', true);
    define('__unwrap', () => {
      if (proto.query !== wrapped) return;
      setMethod(proto, 'query', inner);
      if (isWrapped(inner)) (inner as unknown as { __unwrap(): void }).__unwrap();
    });
    setMethod(proto, 'query', wrapped);
  }

  private unpatchOutermost(target: HasPrototype | undefined): void {
    const proto = target?.prototype;
    const current = proto?.query as { __liveCallGuard?: boolean; __original?: unknown } | undefined;
    if (proto && current?.__liveCallGuard) setMethod(proto, 'query', current.__original);
  }

  private patch(target: HasPrototype | undefined, method: string, wrapper: (original: never) => unknown): void {
    const proto = target?.prototype;
    if (!proto || typeof proto[method] !== 'function') {
      this._diag.warn(`cannot hook ${method}: not found`);
      return;
    }
    if (isWrapped(proto[method]) && (proto[method] as { __liveCallGuard?: boolean }).__liveCallGuard) return;
    this._wrap(proto, method, (original) => {
      const wrapped = (wrapper as (original: unknown) => unknown)(original) as { __liveCallGuard?: boolean };
      wrapped.__liveCallGuard = true;
      return wrapped;
    });
  }

  private unpatch(target: HasPrototype | undefined, methods: string[]): void {
    const proto = target?.prototype;
    if (!proto) return;
    for (const method of methods) if (isWrapped(proto[method])) this._unwrap(proto, method);
  }
}

type Query = (this: unknown, ...args: unknown[]) => unknown;

function setMethod(proto: Prototype, name: string, value: unknown): void {
  const enumerable = Object.prototype.propertyIsEnumerable.call(proto, name);
  Object.defineProperty(proto, name, { configurable: true, enumerable, writable: true, value });
}

function clientOf(exports: unknown): HasPrototype | undefined {
  const module = (exports as { default?: unknown }).default ?? exports;
  return (module as { Client?: HasPrototype }).Client;
}

function classOf(exports: unknown): HasPrototype | undefined {
  return ((exports as { default?: unknown }).default ?? exports) as HasPrototype | undefined;
}
