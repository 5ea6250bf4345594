import type {
  ConversationItemInputAudioTranscriptionCompletedEvent,
  InputAudioBufferSpeechStartedEvent,
  InputAudioBufferSpeechStoppedEvent,
  RateLimitsUpdatedEvent,
  RealtimeErrorEvent,
  RealtimeServerEvent,
  ResponseAudioDeltaEvent,
  ResponseAudioDoneEvent,
  ResponseAudioTranscriptDoneEvent,
  ResponseDoneEvent,
  ResponseFunctionCallArgumentsDoneEvent,
} from 'openai/resources/realtime/realtime';

/** The server events the bridge acts on (the openai package's types). */
export type HandledServerEvent =
  | ResponseAudioDeltaEvent
  | ResponseAudioDoneEvent
  | InputAudioBufferSpeechStartedEvent
  | InputAudioBufferSpeechStoppedEvent
  | ConversationItemInputAudioTranscriptionCompletedEvent
  | ResponseAudioTranscriptDoneEvent
  | ResponseFunctionCallArgumentsDoneEvent
  | ResponseDoneEvent
  | RealtimeErrorEvent
  | RateLimitsUpdatedEvent;

export type ParsedServerEvent =
  | { readonly kind: 'handled'; readonly event: HandledServerEvent }
  /** A well-formed event the bridge has no use for (session.created, response.created, …) or does not know. */
  | { readonly kind: 'ignored'; readonly type: string; readonly known: boolean }
  | { readonly kind: 'malformed'; readonly reason: string };

const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Per handled type, the fields the bridge reads and their check. */
const REQUIRED: { readonly [T in HandledServerEvent['type']]: ReadonlyArray<readonly [string, (value: unknown) => boolean]> } = {
  'response.output_audio.delta': [['delta', isString], ['item_id', isString], ['response_id', isString]],
  'response.output_audio.done': [['item_id', isString]],
  'input_audio_buffer.speech_started': [['item_id', isString], ['audio_start_ms', isNumber]],
  'input_audio_buffer.speech_stopped': [['item_id', isString]],
  'conversation.item.input_audio_transcription.completed': [['item_id', isString], ['transcript', isString]],
  'response.output_audio_transcript.done': [['item_id', isString], ['transcript', isString]],
  'response.function_call_arguments.done': [['call_id', isString], ['name', isString], ['arguments', isString], ['item_id', isString]],
  'response.done': [['response', isObject]],
  error: [['error', isObject]],
  'rate_limits.updated': [['rate_limits', Array.isArray]],
};

/** The other server event types of the GA protocol: well-formed, not acted on. */
const KNOWN_IGNORED: ReadonlySet<string> = new Set<RealtimeServerEvent['type']>([
  'session.created',
  'session.updated',
  'conversation.created',
  'conversation.item.created',
  'conversation.item.added',
  'conversation.item.done',
  'conversation.item.deleted',
  'conversation.item.retrieved',
  'conversation.item.truncated',
  'conversation.item.input_audio_transcription.delta',
  'conversation.item.input_audio_transcription.failed',
  'conversation.item.input_audio_transcription.segment',
  'input_audio_buffer.cleared',
  'input_audio_buffer.committed',
  'input_audio_buffer.timeout_triggered',
  'input_audio_buffer.dtmf_event_received',
  'output_audio_buffer.started',
  'output_audio_buffer.stopped',
  'output_audio_buffer.cleared',
  'response.created',
  'response.output_item.added',
  'response.output_item.done',
  'response.content_part.added',
  'response.content_part.done',
  'response.output_audio_transcript.delta',
  'response.output_text.delta',
  'response.output_text.done',
  'response.function_call_arguments.delta',
]);

/**
 * One frame from the model, parsed and checked for the fields the bridge
 * reads. Never throws: a bad frame is `malformed` (counted by the caller).
 */
export function parseServerEvent(data: string): ParsedServerEvent {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { kind: 'malformed', reason: 'not JSON' };
  }
  if (!isObject(json) || !isString(json.type)) return { kind: 'malformed', reason: 'no event type' };
  const type = json.type;
  const required = Object.hasOwn(REQUIRED, type) ? REQUIRED[type as HandledServerEvent['type']] : undefined;
  if (!required) return { kind: 'ignored', type: type.slice(0, 100), known: KNOWN_IGNORED.has(type) };
  for (const [field, check] of required) {
    if (!check(json[field])) return { kind: 'malformed', reason: `${type}: ${field} missing or of the wrong type` };
  }
  return { kind: 'handled', event: json as unknown as HandledServerEvent };
}
