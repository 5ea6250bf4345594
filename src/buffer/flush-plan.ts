import { JournalError } from '../errors.js';
import type { BufferedWrite } from './journal-format.js';
import type { CheckedSchema } from './schema-check.js';
import type { JsonValue, Row, WriteOperations, WriteOperationSpec } from './write-operation.js';

/** One statement of a flush: an operation's rows (merged by key for upserts and updates), all with the same columns. */
export interface PlannedStatement {
  readonly op: string;
  readonly spec: WriteOperationSpec;
  readonly columns: readonly string[];
  readonly rows: readonly Row[];
  /** Per row, the sequence numbers of the writes merged into it. */
  readonly sources: ReadonlyArray<readonly number[]>;
  /** `upsert`: the columns its `on conflict` names (the unique index the start check found). Default the key. */
  readonly conflictTarget?: readonly string[];
}

interface PlannedRow {
  row: Record<string, JsonValue>;
  sources: number[];
}

/**
 * Merges a buffer's writes, in sequence order, into the statements of its
 * flush: per operation one statement — inserts carry their idempotency
 * keys; upserts and updates are merged by key (later values win; `json`
 * columns merge key by key). Rows of one operation that set different
 * columns make one statement per column set.
 *
 * Order: operations land in the order the agent first enqueued each, except
 * that an operation whose table references (foreign key, read at start into
 * `schema.dependsOn`) another operation's table lands after it. Pure.
 * @throws {JournalError} a write names an operation that is not declared (a journal from another version of the app).
 */
export function planFlush(writes: readonly BufferedWrite[], operations: WriteOperations, schema?: CheckedSchema): PlannedStatement[] {
  const byOp = new Map<string, Map<string, PlannedRow>>();
  for (const write of [...writes].sort((a, b) => a.seq - b.seq)) {
    const spec = Object.hasOwn(operations, write.op) ? operations[write.op] : undefined;
    if (!spec) throw new JournalError(`write ${write.idempotencyKey} is a ${write.op}, and no operation of that name is declared`);
    let rows = byOp.get(write.op);
    if (!rows) byOp.set(write.op, (rows = new Map()));
    if (spec.kind === 'insert') {
      rows.set(write.idempotencyKey, { row: { ...write.row, [spec.idempotencyColumn!]: write.idempotencyKey }, sources: [write.seq] });
      continue;
    }
    const key = JSON.stringify(spec.key!.map((column) => write.row[column] ?? null));
    const merged = rows.get(key);
    if (merged) {
      merged.row = mergeRows(merged.row, write.row, spec);
      merged.sources.push(write.seq);
    } else {
      rows.set(key, { row: { ...write.row }, sources: [write.seq] });
    }
  }
  return orderOps([...byOp.keys()], schema?.dependsOn ?? {}).flatMap((op) =>
    statementsOf(op, operations[op]!, [...byOp.get(op)!.values()], schema?.conflictTargets[op]),
  );
}

/**
 * The operations in first-enqueue order (the map's insertion order), each
 * moved after the operations it depends on (foreign keys). A cycle keeps
 * the enqueue order for the operations in it.
 */
function orderOps(enqueued: readonly string[], dependsOn: Readonly<Record<string, readonly string[]>>): string[] {
  const present = new Set(enqueued);
  const ordered: string[] = [];
  const placed = new Set<string>();
  while (ordered.length < enqueued.length) {
    const ready = enqueued.find((op) => !placed.has(op) && (dependsOn[op] ?? []).every((other) => placed.has(other) || !present.has(other)));
    const next = ready ?? enqueued.find((op) => !placed.has(op))!;
    ordered.push(next);
    placed.add(next);
  }
  return ordered;
}

/** An operation's rows as statements: one per set of columns (usually one). */
export function statementsOf(
  op: string,
  spec: WriteOperationSpec,
  rows: ReadonlyArray<{ readonly row: Row; readonly sources: readonly number[] }>,
  conflictTarget?: readonly string[],
): PlannedStatement[] {
  const byColumns = new Map<string, Array<{ readonly row: Row; readonly sources: readonly number[] }>>();
  for (const planned of rows) {
    const columns = Object.keys(planned.row).sort().join(',');
    byColumns.set(columns, [...(byColumns.get(columns) ?? []), planned]);
  }
  return [...byColumns].map(([columns, group]) => ({
    op,
    spec,
    columns: columns.split(','),
    rows: group.map((planned) => planned.row),
    sources: group.map((planned) => planned.sources),
    ...(conflictTarget ? { conflictTarget } : {}),
  }));
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
