import type { WriteBuffer } from '../buffer/write-buffer.js';
import type { CallContext } from '../context/call-context.js';
import type { Logger } from '../telemetry/logger.js';

/** What an agent sees of a call: the frozen context, the buffer, and the audio channel. Never Knex. */
export interface AgentCall {
  readonly callSid: string;
  readonly streamSid: string;
  readonly businessId: number;
  readonly direction: 'inbound' | 'outbound';
  /** Null when the call-start load failed or timed out: the call goes on without CRM data. */
  readonly context: CallContext | null;
  /** The call's writes; flushed in one transaction when the call ends. */
  readonly writes: WriteBuffer;
  readonly log: Logger;
  /** Queues µ-law 8 kHz audio to the caller (sent as 20 ms media frames). */
  sendAudio(mulaw: Buffer): void;
  /** Asks Twilio to say back `name` once the audio sent before it has played. */
  mark(name: string): void;
  /** Drops the audio queued at Twilio (barge-in); pending marks come back. */
  clear(): void;
}

/** The handlers of one call. Each runs inside the call's live span: no database. */
export interface AgentSession {
  /** One 20 ms µ-law frame from the caller. Called 50 times a second: keep it cheap. */
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
export interface Agent {
  startCall(call: AgentCall): AgentSession;
}
