import { JournalError } from '../errors.js';
import type { CallJournalHandle } from './journal-backend.js';
import { headerLine, writeLine, type BufferedWrite, type CallHeader } from './journal-format.js';

/** What a call's journal needs from the JetStream journal it belongs to. */
export interface JetStreamCallHost {
  /** Publishes one line to `subject` (deduplicated by `msgID`), retrying until acknowledged or out of time. Never rejects. */
  publish(subject: string, line: string, msgID: string): Promise<boolean>;
  /** Removes every message of `subject` from the stream. */
  purge(subject: string): Promise<void>;
  /** A write was acknowledged `ms` after its append (`live_call.journal.enqueue.duration`). */
  enqueued(ms: number): void;
  /** Called once when the call stops taking appends. */
  release(call: JetStreamCall): void;
  /** Owns a background task (its failure is logged; close waits for it). */
  track(task: Promise<unknown>, what: string): void;
}

/**
 * One call's journal on JetStream: the messages of one subject,
 * `<prefix>.calls.<instance>.<call>`, a header then one message per write,
 * each published with a message id (`<subject>:<seq>`) so a retried
 * publish is stored once. Appends return at once with the write's
 * durability: it resolves true once this write and every earlier one of
 * the call are acknowledged (the prefix a replay lands).
 */
export class JetStreamCall implements CallJournalHandle {
  readonly path: string;
  private readonly host: JetStreamCallHost;
  /** Whether everything published so far is acknowledged. */
  private chain: Promise<boolean>;
  private readonly pending = new Set<Promise<boolean>>();
  private failed = false;
  private closed = false;
  private finished = false;
  private readonly onFinished: (() => Promise<void>) | undefined;

  /**
   * @param header the call's header to publish first; none for a call recovery adopted (it takes no appends).
   * @param onFinished after the messages are purged (recovery: release the claim).
   * @internal Use JetStreamJournal.openCall.
   */
  constructor(host: JetStreamCallHost, subject: string, header: CallHeader | undefined, onFinished?: () => Promise<void>) {
    this.host = host;
    this.path = subject;
    this.onFinished = onFinished;
    this.chain = Promise.resolve(true);
    if (header) this.publish(headerLine(header), 0);
    else this.closed = true;
  }

  /**
   * Publishes one write; returns its durability at once (see {@link Durability}).
   * @throws {JournalError} the call is closed, or an earlier write was not acknowledged (later ones go to memory only).
   */
  append(write: BufferedWrite): Promise<boolean> {
    if (this.closed) throw new JournalError(`journal ${this.path} is closed; write ${write.idempotencyKey} was not journaled`);
    if (this.failed) throw new JournalError(`journal ${this.path} failed: an earlier write was not acknowledged; write ${write.idempotencyKey} was not journaled`);
    return this.publish(writeLine(write), write.seq, performance.now());
  }

  /** Takes no more appends (publishes under way go on). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.release(this);
  }

  /** The call's writes are in the database: once its publishes settle, its messages are purged. Idempotent. */
  markFlushed(): void {
    this.finish();
  }

  /** The call's writes are in a dead letter: its messages are purged. Idempotent. */
  remove(): void {
    this.finish();
  }

  /** @param appendedAt when a write's append began (its acknowledgement is timed); none for the header. */
  private publish(line: string, seq: number, appendedAt?: number): Promise<boolean> {
    const ack = this.host.publish(this.path, line, `${this.path}:${seq}`);
    this.pending.add(ack);
    // The host's publish never rejects (a failure resolves false), and this callback cannot throw
    // (a Set delete, a flag, an OTel histogram record: the SDK reports bad values through diag).
    void ack.then((ok) => {
      this.pending.delete(ack);
      if (!ok) this.failed = true;
      else if (appendedAt !== undefined) this.host.enqueued(performance.now() - appendedAt);
    });
    const before = this.chain;
    this.chain = Promise.all([before, ack]).then(([earlier, self]) => earlier && self);
    return this.chain;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.close();
    const purge = async () => {
      // A publish still under way would land after the purge: wait for them (each is bounded by the ack timeout).
      await Promise.all([...this.pending]);
      await this.host.purge(this.path);
      await this.onFinished?.();
    };
    this.host.track(purge(), `purging ${this.path}`);
  }
}
