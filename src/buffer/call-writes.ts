import type { EnqueuedWrite, WriteBuffer } from './write-buffer.js';
import type { WriteInput, WriteOperations } from './write-operation.js';

/**
 * What an agent holds of its call's writes: it can enqueue and look, never
 * close, persist or flush its own call (the layer does, when the call ends).
 */
export interface CallWrites<TOps extends WriteOperations = WriteOperations> {
  /**
   * Buffers one declared operation (validated, the tenant bound, journaled
   * before it returns); never touches the database.
   * @throws {InvalidWriteError} the input fails the operation's schema (nothing buffered).
   * @throws {WriteBufferFullError} the call holds `maxOperations` writes.
   * @throws {WriteBufferClosedError} the call has ended.
   */
  enqueue<K extends keyof TOps & string>(name: K, input: WriteInput<TOps[K]>): EnqueuedWrite;
  /** How many writes the call holds. */
  readonly size: number;
  /** Whether every write so far is in the journal (a crash of the process loses none of them). */
  readonly durable: boolean;
  /** Whether the call has ended (enqueue throws). */
  readonly closed: boolean;
}

/** The narrow view of a buffer an agent gets: a frozen object, not the buffer. */
export function callWritesOf<TOps extends WriteOperations>(buffer: WriteBuffer<TOps>): CallWrites<TOps> {
  return Object.freeze({
    enqueue: <K extends keyof TOps & string>(name: K, input: WriteInput<TOps[K]>): EnqueuedWrite => buffer.enqueue(name, input),
    get size() {
      return buffer.size;
    },
    get durable() {
      return buffer.durable;
    },
    get closed() {
      return buffer.closed;
    },
  });
}
