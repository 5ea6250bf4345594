import type { Knex } from 'knex';
import { TenantMismatchError } from '../errors.js';
import type { PlannedStatement } from './flush-plan.js';
import type { CallHeader } from './journal-format.js';
import type { ColumnMerge } from './write-operation.js';

/**
 * The SQL of one planned statement. Rows travel as ONE jsonb parameter,
 * typed by the table itself (`jsonb_populate_recordset(null::table, …)`),
 * so any column type works (integer, bigint, uuid, text, timestamptz,
 * jsonb) and the statement's text does not grow with the rows.
 */
export function statementOf(knex: Knex, call: CallHeader, statement: PlannedStatement): Knex.Raw {
  const { spec } = statement;
  const columns = [...statement.columns];
  const key = [...(statement.conflictTarget ?? spec.key ?? [])];
  const rows = JSON.stringify(statement.rows);
  const source = 'jsonb_populate_recordset(null::??, ?::jsonb)';
  switch (spec.kind) {
    case 'insert':
      if (spec.onConflict) {
        // Any conflict is set aside (not only the idempotency key's), and each
        // input row says whether it was inserted, or existed before (a replay):
        // the others were rejected by another constraint. The outer query sees
        // the table as it was before this statement.
        const idem = spec.idempotencyColumn!;
        return knex.raw(
          `with "input" as (select * from ${source}),
                "inserted" as (insert into ?? (??) select ?? from "input" on conflict do nothing returning ??)
           select "input".?? as "key", ("inserted".?? is not null) as "inserted",
                  exists (select 1 from ?? as t where t.?? = "input".??) as "existed"
           from "input" left join "inserted" on "inserted".?? = "input".??`,
          [spec.table, rows, spec.table, columns, columns, idem, idem, idem, spec.table, idem, idem, idem, idem],
        );
      }
      return knex.raw(`insert into ?? (??) select ?? from ${source} on conflict (??) do nothing returning 1`, [
        spec.table,
        columns,
        columns,
        spec.table,
        rows,
        spec.idempotencyColumn!,
      ]);
    case 'upsert': {
      const set = setClause(statement, 'excluded');
      return knex.raw(
        `insert into ?? as t (??) select ?? from ${source} on conflict (??) do update set ${set.sql} where t.?? = excluded.?? returning 1`,
        [spec.table, columns, columns, spec.table, rows, key, ...set.bindings, spec.tenantColumn, spec.tenantColumn],
      );
    }
    case 'update': {
      const set = setClause(statement, 'v');
      return knex.raw(
        `update ?? as t set ${set.sql} from (select * from ${source}) as v where ${spec.key!.map(() => 't.?? = v.??').join(' and ')} and t.?? = ? returning 1`,
        [spec.table, ...set.bindings, spec.table, rows, ...spec.key!.flatMap((column) => [column, column]), spec.tenantColumn, call.tenantId],
      );
    }
  }
}

/**
 * `col = <new value>, …` for the columns a statement sets (not the key, not
 * the tenant), each combined with the stored value as its `merge` says.
 * With nothing to set, a no-op assignment of the first key column, so that
 * a conflicting row is still returned (and counted).
 */
function setClause(statement: PlannedStatement, source: 'excluded' | 'v'): { sql: string; bindings: string[] } {
  const { spec, columns } = statement;
  const settable = columns.filter((column) => !spec.key!.includes(column) && column !== spec.tenantColumn);
  const parts = (settable.length > 0 ? settable : [spec.key![0]!]).map((column) => {
    const merge: ColumnMerge = settable.length > 0 ? (spec.merge?.[column] ?? 'replace') : 'replace';
    switch (merge) {
      case 'json':
        return { sql: "?? = coalesce(t.??, '{}'::jsonb) || ??.??", bindings: [column, column, source, column] };
      case 'keep':
        return { sql: '?? = coalesce(t.??, ??.??)', bindings: [column, column, source, column] };
      case 'replace':
        return { sql: '?? = ??.??', bindings: [column, source, column] };
    }
  });
  return { sql: parts.map((part) => part.sql).join(', '), bindings: parts.flatMap((part) => part.bindings) };
}

/** What one statement did: rows it inserted, upserted or updated; the rows another constraint rejected (inserts with a conflict policy), by index. */
export interface StatementOutcome {
  readonly affected: number;
  readonly conflicts: readonly number[];
}

/**
 * Runs one planned statement and checks what it touched: every upsert row
 * must have landed on a row of this tenant, every update key must match a
 * row of this tenant (unless `ifMissing: 'ignore'`).
 * @throws {TenantMismatchError}
 */
export async function runStatement(trx: Knex.Transaction, call: CallHeader, statement: PlannedStatement, timeoutMs: number): Promise<StatementOutcome> {
  const { spec, op } = statement;
  const result = (await statementOf(trx, call, statement).timeout(timeoutMs, { cancel: true })) as {
    rowCount: number | null;
    rows: Array<{ key: string; inserted: boolean; existed: boolean }>;
  };
  if (spec.kind === 'insert' && spec.onConflict) {
    const rejected = new Set(result.rows.filter((row) => !row.inserted && !row.existed).map((row) => row.key));
    const idem = spec.idempotencyColumn!;
    return {
      affected: result.rows.filter((row) => row.inserted).length,
      conflicts: statement.rows.flatMap((row, index) => (rejected.has(String(row[idem])) ? [index] : [])),
    };
  }
  const affected = result.rowCount ?? 0;
  const short = statement.rows.length - affected;
  if (short > 0 && (spec.kind === 'upsert' || (spec.kind === 'update' && spec.ifMissing !== 'ignore'))) {
    throw new TenantMismatchError(
      `flush of call ${call.callSid}: ${short} ${op} row(s) in ${spec.table} are not tenant ${JSON.stringify(call.tenantId)}'s` +
        (spec.kind === 'update' ? ' (or do not exist)' : ''),
    );
  }
  return { affected, conflicts: [] };
}
