import type { WriteInput, WriteOperations } from '../buffer/write-operation.js';

/** One entry of a call's conversation, in the order the bridge recorded it. */
export interface TranscriptEntry {
  /** 1, 2, 3 … within the call: the order of the conversation as recorded. */
  readonly position: number;
  /**
   * `caller`: what the caller said (the model's transcription); `assistant`:
   * what the model said; `tool`: a tool call and its answer; `event`: the
   * bridge's own note (barge-in, the model lost), for whoever reads the call.
   */
  readonly role: 'caller' | 'assistant' | 'tool' | 'event';
  readonly text: string;
  /** The model's conversation item, when there is one. */
  readonly itemId: string | null;
  /** A tool entry's call: name, arguments as sent, output as answered. */
  readonly tool?: { readonly name: string; readonly arguments: string; readonly output: string; readonly ok: boolean };
  /** When the bridge recorded it (ISO-8601, UTC). */
  readonly at: string;
}

/**
 * Where the conversation goes: one of the app's declared writes (an insert
 * into its transcript table, say), its input built from each entry. Each
 * entry is buffered and journaled like every write, and lands in the call's
 * end-of-call transaction, in order, once.
 */
export type RealtimeTranscriptOptions<TOps extends WriteOperations> = {
  [K in keyof TOps & string]: { readonly operation: K; input(entry: TranscriptEntry): WriteInput<TOps[K]> };
}[keyof TOps & string];
