import type { TenantId } from '../buffer/journal-format.js';
import type { CallWrites } from '../buffer/call-writes.js';
import type { WriteOperations } from '../buffer/write-operation.js';
import type { Logger } from '../logger.js';

/** What an agent sees of a call: the frozen context, its writes (enqueue only), and the audio channel. Never Knex. */
export interface AgentCall<TContext = unknown, TOps extends WriteOperations = WriteOperations, TTenant extends TenantId = TenantId> {
  readonly callSid: string;
  readonly streamSid: string;
  readonly tenantId: TTenant;
  readonly direction: 'inbound' | 'outbound';
  /** The stream's custom parameters (the token left out). */
  readonly parameters: Readonly<Record<string, string>>;
  /** Null when the start-of-call load failed or timed out: the call goes on without it. */
  readonly context: TContext | null;
  /** The call's writes (the app's declared operations): enqueue only; flushed in one transaction when the call ends. */
  readonly writes: CallWrites<TOps>;
  readonly log: Logger;
  /** Queues µ-law 8 kHz audio to the caller (sent in chunks of up to a second). */
  sendAudio(mulaw: Buffer): void;
  /** Asks Twilio to say back `name` once the audio sent before it has played. */
  mark(name: string): void;
  /** Drops the audio queued at Twilio (barge-in); pending marks come back. */
  clear(): void;
}

/** The handlers of one call. Each runs inside the call's live span: no database. */
export interface AgentSession {
  /** One 20 ms µ-law frame from the caller. Called 50 times a second: keep it cheap. Taken once, when the call goes live. */
  onMedia?(frame: Buffer): void;
  onDtmf?(digit: string): void;
  onMark?(name: string): void;
  /**
   * The call is ending (stop or hang-up); last chance to buffer writes. A
   * returned promise is awaited (up to `stopTimeoutMs`) before the flush.
   */
  onStop?(): void | Promise<void>;
}

/** A voice agent: the developer's logic, started once per call. */
export interface Agent<TContext = unknown, TOps extends WriteOperations = WriteOperations, TTenant extends TenantId = TenantId> {
  startCall(call: AgentCall<TContext, TOps, TTenant>): AgentSession;
}
