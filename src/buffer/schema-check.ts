import type { Knex } from 'knex';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { WriteOperations, WriteOperationSpec } from './write-operation.js';

/** What the start-time check learned of the database, for the flush. */
export interface CheckedSchema {
  /** Per upsert: the columns of the unique index its `on conflict` names (the key, with the tenant column where the index has it). */
  readonly conflictTargets: Readonly<Record<string, readonly string[]>>;
  /** Per operation: the operations whose tables its table references (foreign keys): their rows land first. */
  readonly dependsOn: Readonly<Record<string, readonly string[]>>;
}

export interface SchemaCheckOptions {
  /** The app's tenant schema (e.g. `z.string().uuid()`): the tenant columns must accept its values. Default: not checked beyond the column type's kind. */
  tenantSchema?: z.ZodType;
}

interface CatalogColumn {
  readonly name: string;
  readonly type: string;
  /** pg_type.typcategory: N numeric, S string, U user (uuid), … */
  readonly category: string;
}
interface CatalogIndex {
  readonly columns: readonly string[];
  readonly partial: boolean;
}
interface CatalogTable {
  readonly name: string;
  readonly oid: number | null;
  readonly columns: readonly CatalogColumn[] | null;
  /** Unique indexes (constraints included): plain columns, valid. */
  readonly unique: readonly CatalogIndex[] | null;
  /** How many unique or exclusion constraints/indexes the table has in all (partial and expression ones included). */
  readonly constraints: number;
  /** Oids of the tables its foreign keys reference. */
  readonly references: readonly number[] | null;
}

/**
 * The one catalog read: for each table (resolved as the session's
 * `search_path` resolves it), its columns, unique indexes, unique/exclusion
 * constraint count and foreign keys.
 */
const CATALOG_SQL = `
with "wanted" as (select distinct unnest(?::text[]) as "name"),
     "resolved" as (select "name", to_regclass("name") as "rel" from "wanted")
select r."name", r."rel"::oid::int as "oid",
  (select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'category', ty.typcategory))
     from pg_attribute a join pg_type ty on ty.oid = a.atttypid
     where a.attrelid = r."rel" and a.attnum > 0 and not a.attisdropped) as "columns",
  (select json_agg(json_build_object(
            'columns', (select json_agg(a.attname order by k.n) from unnest(i.indkey) with ordinality as k(attnum, n)
                          join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum),
            'partial', i.indpred is not null))
     from pg_index i where i.indrelid = r."rel" and i.indisunique and i.indisvalid and i.indexprs is null) as "unique",
  (select count(*)::int from pg_index i where i.indrelid = r."rel" and (i.indisunique or i.indisexclusion)) as "constraints",
  (select json_agg(distinct c.confrelid::int) from pg_constraint c where c.conrelid = r."rel" and c.contype = 'f') as "references"
from "resolved" r`;

/**
 * Checks the declared writes against the database, in ONE catalog
 * statement (run it at start, never in a call):
 * - every declared table exists, and every column a declaration names
 *   (tenant column, key, idempotency column, merge columns);
 * - an upsert's key (with or without the tenant column) matches a unique
 *   index or constraint: its `on conflict` names that index's columns;
 * - an insert's idempotency column has a unique index of its own;
 * - an insert with an `onConflict` policy has a constraint it can conflict on;
 * - a tenant column's type can hold the tenant schema's values.
 * @throws {ConfigError} one line naming each operation and what is missing.
 */
export async function checkWriteSchema(knex: Knex, operations: WriteOperations, options: SchemaCheckOptions = {}): Promise<CheckedSchema> {
  const tables = [...new Set(Object.values(operations).map((op) => op.table))];
  const result = (await knex.raw(CATALOG_SQL, [tables])) as { rows: CatalogTable[] };
  const catalog = new Map(result.rows.map((row) => [row.name, row]));
  const tenantKind = tenantKindOf(options.tenantSchema);
  const problems: string[] = [];
  const conflictTargets: Record<string, readonly string[]> = {};
  for (const [name, op] of Object.entries(operations)) {
    const table = catalog.get(op.table);
    const fail = (what: string) => problems.push(`write operation ${JSON.stringify(name)}: ${what}`);
    if (!table || table.oid === null) {
      fail(`table ${op.table} does not exist (search_path: as the knex connection resolves it)`);
      continue;
    }
    const columns = new Map((table.columns ?? []).map((column) => [column.name, column]));
    const missing = namedColumns(op).filter((column) => !columns.has(column));
    if (missing.length > 0) {
      fail(`${op.table} has no column ${missing.join(', ')}`);
      continue;
    }
    const unique = (table.unique ?? []).filter((index) => !index.partial);
    if (op.kind === 'upsert') {
      const target = conflictTargetOf(op, unique);
      if (target) conflictTargets[name] = target;
      else fail(`no unique index or constraint on ${op.table} (${op.key!.join(', ')}) or (${withTenant(op).join(', ')}): the upsert has no conflict target`);
    }
    if (op.kind === 'insert') {
      if (!unique.some((index) => sameColumns(index.columns, [op.idempotencyColumn!]))) {
        fail(`the idempotency column ${op.table}.${op.idempotencyColumn} has no unique index of its own`);
      } else if (op.onConflict && table.constraints < 2) {
        fail(`onConflict is declared, and ${op.table} has no unique or exclusion constraint besides ${op.idempotencyColumn}'s to conflict on`);
      }
    }
    const tenantColumn = columns.get(op.tenantColumn)!;
    const refusal = tenantColumnRefusal(tenantColumn, tenantKind);
    if (refusal) fail(`tenant column ${op.table}.${op.tenantColumn} (${tenantColumn.type}) ${refusal}`);
  }
  if (problems.length > 0) throw new ConfigError(`the database does not match the declared writes: ${problems.join('; ')}`);
  return { conflictTargets, dependsOn: dependencies(operations, catalog) };
}

/** Every column a declaration names (not the row's: those are the app's code). */
function namedColumns(op: WriteOperationSpec): string[] {
  const named = [op.tenantColumn, ...(op.key ?? []), ...(op.idempotencyColumn ? [op.idempotencyColumn] : []), ...Object.keys(op.merge ?? {})];
  return [...new Set(named)];
}

function withTenant(op: WriteOperationSpec): string[] {
  return [...new Set([...op.key!, op.tenantColumn])];
}

/** The unique index an upsert's `on conflict` names: the key as declared, else the key with the tenant column. */
function conflictTargetOf(op: WriteOperationSpec, unique: readonly CatalogIndex[]): readonly string[] | undefined {
  for (const wanted of [[...new Set(op.key!)], withTenant(op)]) {
    const index = unique.find((candidate) => sameColumns(candidate.columns, wanted));
    if (index) return index.columns;
  }
  return undefined;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((column) => b.includes(column));
}

type TenantKind = 'number' | 'uuid' | 'string' | 'unknown';

/** What values the tenant schema admits, as far as its JSON Schema says. */
function tenantKindOf(schema: z.ZodType | undefined): TenantKind {
  if (!schema) return 'unknown';
  let json: { type?: unknown; format?: unknown };
  try {
    json = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'output' }) as typeof json;
  } catch {
    return 'unknown';
  }
  if (json.type === 'integer' || json.type === 'number') return 'number';
  if (json.type === 'string') return json.format === 'uuid' || json.format === 'guid' ? 'uuid' : 'string';
  return 'unknown';
}

function tenantColumnRefusal(column: CatalogColumn, tenant: TenantKind): string | undefined {
  const isUuid = column.type === 'uuid';
  if (!isUuid && column.category !== 'N' && column.category !== 'S') return 'cannot hold a tenant id (a text, uuid or numeric column can)';
  if (tenant === 'number' && !isUuid && column.category === 'N') return undefined;
  if (tenant === 'number' && column.category !== 'S') return 'cannot hold the tenant schema\'s numbers';
  if (tenant === 'string' && column.category !== 'S') return 'cannot hold every value of the tenant schema (any string): make the schema a uuid, or the column text';
  if (tenant === 'uuid' && column.category === 'N') return 'cannot hold the tenant schema\'s uuids';
  return undefined;
}

/** Per operation, the operations whose tables its table references (a self-reference excluded). */
function dependencies(operations: WriteOperations, catalog: ReadonlyMap<string, CatalogTable>): Record<string, readonly string[]> {
  const oidOf = (op: WriteOperationSpec) => catalog.get(op.table)?.oid ?? null;
  const dependsOn: Record<string, readonly string[]> = {};
  for (const [name, op] of Object.entries(operations)) {
    const own = oidOf(op);
    const references = new Set(catalog.get(op.table)?.references ?? []);
    dependsOn[name] = Object.entries(operations)
      .filter(([other, otherOp]) => other !== name && oidOf(otherOp) !== own && references.has(oidOf(otherOp) ?? -1))
      .map(([other]) => other);
  }
  return dependsOn;
}
