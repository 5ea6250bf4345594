import type { z } from 'zod';
import { ConfigError } from '../errors.js';

/** A JSON value: what a journaled row holds. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A row to write: column → value (JSON; PostgreSQL casts it to the column's type). */
export type Row = Readonly<Record<string, JsonValue>>;

/**
 * How an operation's rows reach its table, at call end:
 * - `insert`: inserted once, keyed by `idempotencyColumn` (the layer fills it
 *   with `<streamSid>:<seq>`); a replay inserts nothing new.
 * - `upsert`: inserted, or on conflict on `key` updated (`merge` per column).
 * - `update`: the row with this `key` (and this tenant) is updated.
 */
export type WriteKind = 'insert' | 'upsert' | 'update';

/**
 * How a column of an upsert/update combines with the stored value, and the
 * rows of one call with the same key with each other:
 * `replace` (default): the last value wins; `json`: jsonb objects are merged
 * key by key (`stored || new`); `keep`: a stored non-null value stays.
 */
export type ColumnMerge = 'replace' | 'json' | 'keep';

/** What a row function knows of its call: fixed at call start and journaled, so a replay computes the same rows. */
export interface CallRowContext<TTenant = unknown> {
  readonly callSid: string;
  /** Null for a buffer not tied to a stream. */
  readonly streamSid: string | null;
  readonly tenantId: TTenant;
  /** What the app bound at call start (e.g. the call's lead id). */
  readonly bindings: Readonly<Record<string, JsonValue>>;
}

/**
 * What lands instead of an inserted row that another constraint than the
 * idempotency key rejects (a slot another call booked first): decided at
 * flush time, in the same transaction, so the rest of the call's writes
 * still land and nothing vanishes.
 */
export interface ConflictResolution {
  /** The row to insert instead, under the same idempotency key (e.g. its status set to `conflict`). Default: none. */
  readonly instead?: Record<string, JsonValue | undefined>;
  /** Rows of other declared operations that land with it (e.g. a callback task). Insert rows get the key `<key>:<op>:<n>`. */
  readonly also?: ReadonlyArray<{ readonly op: string; readonly row: Record<string, JsonValue | undefined> }>;
}

/** One write the app declares: what an agent may buffer, and how it lands. */
export interface WriteOperationSpec<TSchema extends z.ZodType = z.ZodType, TTenant = unknown> {
  /** Validates what the agent gives (the message of a failure names the field). */
  readonly schema: TSchema;
  /** The table, optionally schema-qualified (`app.orders`). */
  readonly table: string;
  readonly kind: WriteKind;
  /** The column holding the tenant: set to the call's tenant on every row, and required to match on every update. */
  readonly tenantColumn: string;
  /**
   * `upsert`/`update`: the columns that identify the row (values from the
   * row). It may include the tenant column (a `(tenant, key)` unique index):
   * the layer sets it to the call's tenant. An upsert's key, with or without
   * the tenant column, must match a unique index (checked at start).
   */
  readonly key?: readonly string[];
  /** `insert`: the column (with a unique index) that holds each write's idempotency key. */
  readonly idempotencyColumn?: string;
  /** `upsert`/`update`: per column, how it combines. Default `replace` for all. */
  readonly merge?: Readonly<Record<string, ColumnMerge>>;
  /**
   * `update`: a key that matches no row of the tenant. `fail` (default): the
   * flush fails as a tenant mismatch (dead letter); `ignore`: nothing written.
   */
  readonly ifMissing?: 'fail' | 'ignore';
  /**
   * `insert`: the conflict policy. With it, a row that another unique or
   * exclusion constraint rejects does not fail the flush: it is counted
   * (`call.flush.conflicts` on the span, `live_call.buffer.conflicts`), and
   * what this returns lands instead. Without it, such a row fails the flush
   * (a permanent failure: dead letter).
   */
  onConflict?(row: Row, call: CallRowContext<TTenant>): ConflictResolution;
  /**
   * The row to write, from the validated input and the call. Pure: it runs
   * when the write is enqueued, and the row is what is journaled.
   */
  row(data: z.output<TSchema>, call: CallRowContext<TTenant>): Record<string, JsonValue | undefined>;
}

/** The app's operations, by name. */
export type WriteOperations = Readonly<Record<string, WriteOperationSpec>>;

/** What `enqueue(name, input)` accepts for an operation. */
export type WriteInput<TOp> = TOp extends WriteOperationSpec<infer TSchema> ? z.input<TSchema> : never;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const OPERATION_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * Declares one write operation, typed by its schema. The set of operations
 * is checked when the buffer layer is built ({@link validateWriteOperations}):
 * a bad declaration fails at start, never at a call's end.
 */
export function defineWrite<TSchema extends z.ZodType, TTenant = unknown>(
  spec: WriteOperationSpec<TSchema, TTenant>,
): WriteOperationSpec<TSchema, TTenant> {
  return Object.freeze({ ...spec });
}

/**
 * Checks a set of operations once (at construction of the buffer layer).
 * @throws {ConfigError} naming the operation and what is wrong.
 */
export function validateWriteOperations(operations: WriteOperations): void {
  const names = Object.keys(operations);
  if (names.length === 0) throw new ConfigError('write operations: none declared');
  for (const name of names) {
    const op = operations[name]!;
    const fail = (what: string) => new ConfigError(`write operation ${JSON.stringify(name)}: ${what}`);
    if (!OPERATION_NAME.test(name)) throw fail('the name must be letters, digits, _ . - (at most 64)');
    if (typeof op.schema?.safeParse !== 'function') throw fail('schema must be a zod schema');
    if (typeof op.row !== 'function') throw fail('row must be a function');
    if (!TABLE.test(op.table ?? '')) throw fail(`table must be an identifier or schema.identifier (received ${JSON.stringify(op.table)})`);
    if (!['insert', 'upsert', 'update'].includes(op.kind)) throw fail(`kind must be insert, upsert or update (received ${JSON.stringify(op.kind)})`);
    if (!IDENTIFIER.test(op.tenantColumn ?? '')) throw fail(`tenantColumn must be a column name (received ${JSON.stringify(op.tenantColumn)})`);
    if (op.onConflict !== undefined && (op.kind !== 'insert' || typeof op.onConflict !== 'function')) {
      throw fail('onConflict is a function, for inserts only');
    }
    if (op.kind === 'insert') {
      if (!IDENTIFIER.test(op.idempotencyColumn ?? '')) throw fail('an insert needs idempotencyColumn (a column with a unique index)');
    } else {
      if (!op.key || op.key.length === 0 || !op.key.every((column) => IDENTIFIER.test(column))) {
        throw fail(`an ${op.kind} needs key: the columns that identify the row`);
      }
    }
    for (const [column, merge] of Object.entries(op.merge ?? {})) {
      if (!IDENTIFIER.test(column) || !['replace', 'json', 'keep'].includes(merge)) {
        throw fail(`merge.${column} must be replace, json or keep (received ${JSON.stringify(merge)})`);
      }
    }
    if (op.ifMissing !== undefined && op.ifMissing !== 'fail' && op.ifMissing !== 'ignore') {
      throw fail(`ifMissing must be fail or ignore (received ${JSON.stringify(op.ifMissing)})`);
    }
  }
}

/** Whether a column name is safe to put in SQL as an identifier. */
export function isColumnName(name: string): boolean {
  return IDENTIFIER.test(name);
}
