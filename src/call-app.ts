import type { z } from 'zod';
import type { TenantId } from './buffer/journal-format.js';
import { validateWriteOperations, type JsonValue, type WriteOperations } from './buffer/write-operation.js';
import type { CallContextSpec, StartOfCall } from './context/call-context-spec.js';
import { ConfigError } from './errors.js';

/**
 * What an app declares to the layer: its tenant, its start-of-call
 * statement and its writes. The layer enforces the rest: one statement at
 * start, none while the call is live, one tenant-bound transaction at end,
 * nothing lost.
 */
export interface CallAppSpec<TTenant extends TenantId = TenantId, TContext = unknown, TOps extends WriteOperations = WriteOperations> {
  /** The stream parameter that names the call's tenant. Default `tenant_id`. */
  readonly tenantParameter?: string;
  /**
   * Validates that parameter (a string, as Twilio passes it) into the id the
   * app uses: `z.string().uuid()`, `z.coerce.number().int().positive()`,
   * `z.string().regex(/^\d+$/)` for a bigint, ...
   */
  readonly tenant: z.ZodType<TTenant>;
  /**
   * Validates the stream's other parameters (strings; the token left out):
   * a stream whose parameters fail is closed (1008) before any query.
   * Default: any.
   */
  readonly parameters?: z.ZodType<Record<string, string | undefined>>;
  /** The one start-of-call statement and how its row becomes the frozen context. */
  readonly context: CallContextSpec<TTenant, TContext>;
  /** The writes an agent may buffer, by name. */
  readonly writes: TOps;
  /**
   * The schema the layer's table lives in (`migrateLayer(knex, { schema })`):
   * the stream claim in the start statement is qualified with it. Default:
   * unqualified (the connection's `search_path`).
   */
  readonly schema?: string;
  /**
   * Values fixed at call start that the rows may use (journaled with the
   * call, so a replay computes the same rows): e.g. the lead the context
   * found. Default none.
   */
  bindings?(context: TContext | null, start: StartOfCall<TTenant>): Record<string, JsonValue>;
}

/** A checked {@link CallAppSpec}. */
export type CallApp<TTenant extends TenantId = TenantId, TContext = unknown, TOps extends WriteOperations = WriteOperations> = Readonly<
  Required<Pick<CallAppSpec<TTenant, TContext, TOps>, 'tenantParameter'>> & CallAppSpec<TTenant, TContext, TOps>
>;

const PARAMETER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Declares the app. Checked now, so a mistake fails at start with a
 * {@link ConfigError} naming it, never in a call.
 */
export function defineCallApp<TTenant extends TenantId, TContext, TOps extends WriteOperations>(
  spec: CallAppSpec<TTenant, TContext, TOps>,
): CallApp<TTenant, TContext, TOps> {
  const tenantParameter = spec.tenantParameter ?? 'tenant_id';
  if (!PARAMETER.test(tenantParameter) || ['token', 'direction'].includes(tenantParameter)) {
    throw new ConfigError(`defineCallApp tenantParameter must be a parameter name other than token and direction (received ${JSON.stringify(spec.tenantParameter)})`);
  }
  if (typeof spec.tenant?.safeParse !== 'function') throw new ConfigError('defineCallApp tenant must be a zod schema of the tenant id');
  if (spec.parameters !== undefined && typeof spec.parameters.safeParse !== 'function') throw new ConfigError('defineCallApp parameters must be a zod schema');
  if (typeof spec.context?.query !== 'function') throw new ConfigError('defineCallApp context.query must be a function returning the start-of-call Knex query');
  if (spec.bindings !== undefined && typeof spec.bindings !== 'function') throw new ConfigError('defineCallApp bindings must be a function');
  if (spec.schema !== undefined && !PARAMETER.test(spec.schema)) throw new ConfigError(`defineCallApp schema must be an identifier (received ${JSON.stringify(spec.schema)})`);
  validateWriteOperations(spec.writes);
  return Object.freeze({ ...spec, tenantParameter });
}
