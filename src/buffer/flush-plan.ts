import { JournalError } from '../errors.js';
import type { BufferedWrite } from './journal-format.js';
import type { JsonValue, Row, WriteOperations, WriteOperationSpec } from './write-operation.js';

/** One statement of a flush: an operation's rows (merged by key for upserts and updates), all with the same columns. */
export interface PlannedStatement {
  readonly op: string;
  readonly spec: WriteOperationSpec;
  readonly columns: readonly string[];
  readonly rows: readonly Row[];
}

/**
 * Merges a buffer's writes, in sequence order, into the statements of its
 * flush: per declared operation (in declaration order) one statement —
 * inserts carry their idempotency keys; upserts and updates are merged by
 * key (later values win; `json` columns merge key by key). Rows of one
 * operation that set different columns make one statement per column set.
 * Pure.
 * @throws {JournalError} a write names an operation that is not declared (a journal from another version of the app).
 */
export function planFlush(writes: readonly BufferedWrite[], operations: WriteOperations): PlannedStatement[] {
  const byOp = new Map<string, Map<string, Record<string, JsonValue>>>();
  for (const write of [...writes].sort((a, b) => a.seq - b.seq)) {
    const spec = Object.hasOwn(operations, write.op) ? operations[write.op] : undefined;
    if (!spec) throw new JournalError(`write ${write.idempotencyKey} is a ${write.op}, and no operation of that name is declared`);
    let rows = byOp.get(write.op);
    if (!rows) byOp.set(write.op, (rows = new Map()));
    if (spec.kind === 'insert') {
      rows.set(write.idempotencyKey, { ...write.row, [spec.idempotencyColumn!]: write.idempotencyKey });
      continue;
    }
    const key = JSON.stringify(spec.key!.map((column) => write.row[column] ?? null));
    const merged = rows.get(key);
    rows.set(key, merged ? mergeRows(merged, write.row, spec) : { ...write.row });
  }

  const statements: PlannedStatement[] = [];
  for (const [op, spec] of Object.entries(operations)) {
    const rows = byOp.get(op);
    if (rows) statements.push(...statementsOf(op, spec, [...rows.values()]));
  }
  return statements;
}

/** An operation's rows as statements: one per set of columns (usually one). */
export function statementsOf(op: string, spec: WriteOperationSpec, rows: readonly Row[]): PlannedStatement[] {
  const byColumns = new Map<string, Row[]>();
  for (const row of rows) {
    const columns = Object.keys(row).sort().join(',');
    byColumns.set(columns, [...(byColumns.get(columns) ?? []), row]);
  }
  return [...byColumns].map(([columns, group]) => ({ op, spec, columns: columns.split(','), rows: group }));
}

function mergeRows(into: Record<string, JsonValue>, row: Row, spec: WriteOperationSpec): Record<string, JsonValue> {
  const merged = { ...into };
  for (const [column, value] of Object.entries(row)) {
    const previous = merged[column];
    merged[column] =
      spec.merge?.[column] === 'json' && isObject(previous) && isObject(value) ? { ...previous, ...value } : value;
  }
  return merged;
}

function isObject(value: JsonValue | undefined): value is { readonly [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
