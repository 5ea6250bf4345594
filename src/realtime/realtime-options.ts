import type { TenantId } from '../buffer/journal-format.js';
import type { WriteOperations } from '../buffer/write-operation.js';
import { DEFAULTS } from '../defaults.js';
import { ConfigError } from '../errors.js';
import { tones } from '../testing/mulaw.js';
import type { AgentCall } from '../twilio/agent.js';
import type { RealtimeCallStats } from './realtime-stats.js';
import { toolDeclarations, type RealtimeTool } from './realtime-tool.js';
import type { RealtimeTranscriptOptions } from './transcript.js';

/** Why the model is not answering the caller. */
export interface ModelFailure {
  readonly kind: 'refused' | 'lost' | 'failed_response';
  /** One line, no secrets (an HTTP status, a close code, the model's error code). */
  readonly detail: string;
}

export interface RealtimeAgentOptions<TContext = unknown, TOps extends WriteOperations = WriteOperations, TTenant extends TenantId = TenantId> {
  /** The Realtime endpoint (`wss:`, or `ws:` for a local server). Default OpenAI's, `wss://api.openai.com/v1/realtime`. */
  url?: string;
  /** Sent as `Authorization: Bearer …`; never logged. Required. */
  apiKey: string;
  /** The model (the `model` query parameter and the session's). Default `gpt-realtime`. */
  model?: string;
  /** The voice. Default `alloy`. */
  voice?: string;
  /** The caller's speech is transcribed by this model (the transcript). Default `gpt-4o-mini-transcribe`. */
  transcriptionModel?: string;
  /** The session's instructions, built from the frozen context (null when the load failed) at call start. */
  instructions(context: TContext | null, call: AgentCall<TContext, TOps, TTenant>): string;
  /**
   * What the model is asked to say first (a `response.create` with these
   * instructions), or null to wait for the caller. Default: null.
   */
  greeting?(context: TContext | null, call: AgentCall<TContext, TOps, TTenant>): string | null;
  /** The app's tools: read tools answer from the context, write tools buffer a declared write. Default none. */
  tools?: ReadonlyArray<RealtimeTool<TContext, TOps>>;
  /** Where the conversation is written (one declared write per entry). Default: not recorded. */
  transcript?: RealtimeTranscriptOptions<TOps>;
  /**
   * µ-law 8 kHz audio the caller hears when the model is not answering
   * (refused, lost, a failed response), once per failure. Default: a short
   * falling two-tone chime. An empty buffer plays nothing.
   */
  fallbackAudio?: Buffer;
  /** Called (guarded) on each model failure: the app may buffer a write (a callback request, say). Default none. */
  onModelFailure?(failure: ModelFailure, call: AgentCall<TContext, TOps, TTenant>): void;
  /** Called (guarded) when the call ends, before its writes are flushed: the last chance to buffer one (a call outcome). Default none. */
  onStop?(call: AgentCall<TContext, TOps, TTenant>, stats: RealtimeCallStats): void;
  /** How long the model socket may take to open. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Caller frames kept while the model socket opens (past it dropped, counted). Default 50 (1 s). */
  maxQueuedFrames?: number;
  /** Bytes the model socket may hold unsent before caller frames are dropped (counted). Default 256 KiB. */
  maxModelBufferedBytes?: number;
  /** Model audio queued at Twilio and not yet played, in ms, past which deltas are dropped (counted). Default 60 000. */
  maxUnplayedMs?: number;
  /** Largest event the model may send, in bytes. Default 4 MiB. */
  maxEventBytes?: number;
  /** At call end, how long the model socket may take to close before it is terminated. Default 1000 ms. */
  closeTimeoutMs?: number;
  /** Longest tool output sent to the model, in characters. Default 16 384. */
  maxToolOutputChars?: number;
}

/** The options with every default applied. @internal */
export interface ResolvedRealtimeOptions<TContext, TOps extends WriteOperations, TTenant extends TenantId>
  extends Required<Omit<RealtimeAgentOptions<TContext, TOps, TTenant>, 'greeting' | 'transcript' | 'onModelFailure' | 'onStop' | 'tools'>> {
  readonly tools: ReadonlyMap<string, RealtimeTool<TContext, TOps>>;
  readonly toolDeclarations: ReturnType<typeof toolDeclarations>;
  readonly greeting: RealtimeAgentOptions<TContext, TOps, TTenant>['greeting'];
  readonly transcript: RealtimeAgentOptions<TContext, TOps, TTenant>['transcript'];
  readonly onModelFailure: RealtimeAgentOptions<TContext, TOps, TTenant>['onModelFailure'];
  readonly onStop: RealtimeAgentOptions<TContext, TOps, TTenant>['onStop'];
  /** The URL with the model as a query parameter. */
  readonly endpoint: string;
}

let defaultFallback: Buffer | undefined;

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved <= 0) {
    throw new ConfigError(`realtimeAgent options: ${name} must be a positive integer (received ${JSON.stringify(value)})`);
  }
  return resolved;
}

/** Applies the defaults and checks every option. @throws {ConfigError} naming the option. @internal */
export function resolveRealtimeOptions<TContext, TOps extends WriteOperations, TTenant extends TenantId>(
  options: RealtimeAgentOptions<TContext, TOps, TTenant>,
): ResolvedRealtimeOptions<TContext, TOps, TTenant> {
  const fail = (what: string) => new ConfigError(`realtimeAgent options: ${what}`);
  if (typeof options?.apiKey !== 'string' || options.apiKey.trim() === '') throw fail('apiKey is required (e.g. OPENAI_API_KEY)');
  if (typeof options.instructions !== 'function') throw fail('instructions must be a function (context, call) => string');
  const url = options.url ?? DEFAULTS.realtimeUrl;
  let endpoint: URL;
  try {
    endpoint = new URL(url);
  } catch {
    throw fail(`url must be a ws:// or wss:// URL (received ${JSON.stringify(url)})`);
  }
  if (endpoint.protocol !== 'wss:' && endpoint.protocol !== 'ws:') throw fail(`url must be a ws:// or wss:// URL (received ${JSON.stringify(url)})`);
  const model = options.model ?? DEFAULTS.realtimeModel;
  if (typeof model !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(model)) throw fail(`model must be a model name (received ${JSON.stringify(model)})`);
  if (!endpoint.searchParams.has('model')) endpoint.searchParams.set('model', model);
  const tools = options.tools ?? [];
  const declarations = toolDeclarations(tools as readonly RealtimeTool<never, never>[]);
  if (options.transcript && (typeof options.transcript.operation !== 'string' || typeof options.transcript.input !== 'function')) {
    throw fail('transcript must be { operation, input(entry) }');
  }
  if (options.fallbackAudio !== undefined && !Buffer.isBuffer(options.fallbackAudio)) throw fail('fallbackAudio must be a Buffer of µ-law audio');
  return {
    url,
    endpoint: endpoint.toString(),
    apiKey: options.apiKey,
    model,
    voice: options.voice ?? DEFAULTS.realtimeVoice,
    transcriptionModel: options.transcriptionModel ?? DEFAULTS.realtimeTranscriptionModel,
    instructions: options.instructions,
    greeting: options.greeting,
    tools: new Map(tools.map((tool) => [tool.name, tool])),
    toolDeclarations: declarations,
    transcript: options.transcript,
    fallbackAudio: options.fallbackAudio ?? (defaultFallback ??= tones([{ hz: 660, ms: 250 }, { hz: 440, ms: 350 }])),
    onModelFailure: options.onModelFailure,
    onStop: options.onStop,
    connectTimeoutMs: positiveInteger('connectTimeoutMs', options.connectTimeoutMs, DEFAULTS.realtimeConnectTimeoutMs),
    maxQueuedFrames: positiveInteger('maxQueuedFrames', options.maxQueuedFrames, DEFAULTS.realtimeMaxQueuedFrames),
    maxModelBufferedBytes: positiveInteger('maxModelBufferedBytes', options.maxModelBufferedBytes, DEFAULTS.realtimeMaxModelBufferedBytes),
    maxUnplayedMs: positiveInteger('maxUnplayedMs', options.maxUnplayedMs, DEFAULTS.realtimeMaxUnplayedMs),
    maxEventBytes: positiveInteger('maxEventBytes', options.maxEventBytes, DEFAULTS.realtimeMaxEventBytes),
    closeTimeoutMs: positiveInteger('closeTimeoutMs', options.closeTimeoutMs, DEFAULTS.realtimeCloseTimeoutMs),
    maxToolOutputChars: positiveInteger('maxToolOutputChars', options.maxToolOutputChars, DEFAULTS.realtimeMaxToolOutputChars),
  };
}

