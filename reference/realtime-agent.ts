import { realtimeAgent, type RealtimeAgent } from '../src/realtime/index.js';
import type { CallContext } from './call-context.js';
import type { ReceptionistWrites } from './operations.js';
import { receptionistTranscript } from './realtime-transcript.js';
import { receptionistTools } from './realtime-tools.js';
import { SlotHolds } from './slot-holds.js';

export interface RealtimeReceptionistOptions {
  /** `OPENAI_API_KEY`. */
  apiKey: string;
  /** `REALTIME_URL` (default OpenAI's endpoint; `ws://` for a local server). */
  url?: string;
  /** `REALTIME_MODEL`. */
  model?: string;
  voice?: string;
  /** Slots held by this process's live calls. Default: one table for this agent's calls. */
  holds?: SlotHolds;
  /** The clock (tests). Default `Date.now`. */
  now?: () => number;
  /** Passed on to realtimeAgent (tests shorten timeouts and bounds). */
  connectTimeoutMs?: number;
  maxQueuedFrames?: number;
  maxUnplayedMs?: number;
  fallbackAudio?: Buffer;
}

export type RealtimeReceptionistAgent = RealtimeAgent<CallContext, ReceptionistWrites, number>;

/** The session's instructions, from the frozen context only. */
export function receptionistInstructions(context: CallContext | null, direction: 'inbound' | 'outbound'): string {
  const business = context?.business.name ?? 'the business';
  const settings = context?.settings;
  return [
    settings?.prompt ?? `You are the receptionist of ${business}.`,
    `You answer the phone for ${business}. Keep answers short: this is a phone call.`,
    context?.firstName ? `The caller is ${context.firstName}.` : 'You do not know the caller\'s name: ask for it, then call save_caller_name.',
    settings?.workingHours ? `Opening hours: ${settings.workingHours} (${settings.timezone}).` : 'The opening hours are unknown.',
    'Offer times only from find_free_slots; book with book_appointment once the caller agrees; tell the caller what the tool answer says to tell.',
    'If the caller wants to be called back, use request_callback.',
    direction === 'outbound' ? 'You placed this call.' : 'The caller called you.',
  ].join('\n');
}

/**
 * The receptionist as a voice agent on the OpenAI Realtime API: greets the
 * caller by the cached name, offers free slots from the cached opening
 * hours and this process's holds, books, takes callback requests and names
 * — every write buffered — and keeps the conversation in call_transcripts.
 * When the model cannot answer, the caller hears the fallback chime and the
 * call is marked for a callback (a write, landing at call end).
 */
export function realtimeReceptionistAgent(options: RealtimeReceptionistOptions): RealtimeReceptionistAgent {
  const now = options.now ?? Date.now;
  const holds = options.holds ?? new SlotHolds();
  const started = new Map<string, number>();
  return realtimeAgent<CallContext, ReceptionistWrites, number>({
    apiKey: options.apiKey,
    ...(options.url ? { url: options.url } : {}),
    ...(options.model ? { model: options.model } : {}),
    ...(options.voice ? { voice: options.voice } : {}),
    ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.maxQueuedFrames ? { maxQueuedFrames: options.maxQueuedFrames } : {}),
    ...(options.maxUnplayedMs ? { maxUnplayedMs: options.maxUnplayedMs } : {}),
    ...(options.fallbackAudio ? { fallbackAudio: options.fallbackAudio } : {}),
    instructions: (context, call) => {
      started.set(call.callSid, now());
      return receptionistInstructions(context, call.direction);
    },
    greeting: (context, call) => {
      const name = context?.firstName;
      const greeting = context?.settings?.greeting ?? `Thank you for calling ${context?.business.name ?? 'us'}.`;
      call.writes.enqueue('updateSession', { state: { greeting, direction: call.direction, agent: 'realtime' } });
      return `Greet the caller${name ? ` by name (${name})` : ''} and say: "${greeting}"`;
    },
    tools: receptionistTools({ holds, now }),
    transcript: receptionistTranscript,
    onModelFailure: (failure, call) => {
      call.writes.enqueue('updateSession', { state: { callbackRequested: true, modelFailure: `${failure.kind}: ${failure.detail}` } });
    },
    onStop: (call, stats) => {
      const startedAt = started.get(call.callSid) ?? now();
      started.delete(call.callSid);
      call.writes.enqueue('updateSession', { state: { bargeIns: stats.bargeIns, toolCalls: stats.toolCalls } });
      call.writes.enqueue('callOutcome', { status: 'completed', durationSeconds: Math.round((now() - startedAt) / 1000) });
    },
  });
}
