import { context, trace, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import type {
  ConversationItemCreateEvent,
  ConversationItemTruncateEvent,
  InputAudioBufferAppendEvent,
  RealtimeClientEvent,
  ResponseCreateEvent,
  SessionUpdateEvent,
} from 'openai/resources/realtime/realtime';
import WebSocket from 'ws';
import type { TenantId } from '../buffer/journal-format.js';
import type { WriteOperations } from '../buffer/write-operation.js';
import { Attributes, INSTRUMENTATION_NAME, SpanNames } from '../guard/attributes.js';
import { allowDatabaseDuringLiveCall, getLiveCall } from '../guard/live-call.js';

import type { AgentCall, AgentSession } from '../twilio/agent.js';
import { FRAME_BYTES } from '../twilio/audio-chunks.js';
import { Playback } from './playback.js';
import type { ModelFailure, ResolvedRealtimeOptions } from './realtime-options.js';
import { emptyStats, type RealtimeCallStats } from './realtime-stats.js';
import type { HandledServerEvent } from './server-events.js';
import { parseServerEvent } from './server-events.js';
import { answerToolCall } from './tool-answer.js';
import { recordTurn } from './turn-metrics.js';
import type { TranscriptEntry } from './transcript.js';

/** Why the guard allows the model socket's upgrade request under a live call. */
const MODEL_SOCKET = 'the call\'s OpenAI Realtime model socket';

type State = 'connecting' | 'open' | 'gone' | 'closed';

/** Problems logged in full per call; past this, only counted. */
const LOGGED_PROBLEMS_PER_CALL = 5;
/** Marks kept while their audio plays (one per chunk sent). */
const MAX_PENDING_MARKS = 2_000;
const MARK_PREFIX = 'lcg-rt-';
const FALLBACK_MARK = 'lcg-rt-fallback';

/** `input_audio_buffer.append` as text, built without a JSON round trip per frame (base64 needs no escaping). */
const APPEND_TYPE: InputAudioBufferAppendEvent['type'] = 'input_audio_buffer.append';
const APPEND_HEAD = `{"type":"${APPEND_TYPE}","audio":"`;
const APPEND_TAIL = '"}';

interface Turn {
  readonly span: Span;
  readonly stoppedAt: number;
}

/**
 * One call bridged to the Realtime API: the model socket, the audio both
 * ways, tools, the transcript, barge-in and failures. Every handler runs in
 * the call's live context; none throws out (a failure is counted and the
 * call goes on, with a fallback when the model cannot answer).
 */
export class RealtimeBridge<TContext, TOps extends WriteOperations, TTenant extends TenantId> {
  private state: State = 'connecting';
  private readonly socket: WebSocket;
  private readonly live: Context;
  private readonly stats = emptyStats();
  private readonly playback = new Playback(MARK_PREFIX, MAX_PENDING_MARKS);
  private readonly queued: Buffer[] = [];
  private readonly connectTimer: NodeJS.Timeout;
  private carry: Buffer | null = null;
  private carryItem = '';
  private turn: Turn | undefined;
  private position = 0;
  private problems = 0;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: ResolvedRealtimeOptions<TContext, TOps, TTenant>,
    private readonly call: AgentCall<TContext, TOps, TTenant>,
    private readonly onEnd: (stats: RealtimeCallStats) => void,
  ) {
    // startCall runs inside the call's live context: the model's events are handled in it too.
    this.live = context.active();
    // The call's own media link: allowed and counted by the guard, never a violation.
    this.socket = allowDatabaseDuringLiveCall(MODEL_SOCKET, () =>
      new WebSocket(options.endpoint, {
        headers: { Authorization: `Bearer ${options.apiKey}` },
        maxPayload: options.maxEventBytes,
        handshakeTimeout: options.connectTimeoutMs,
        perMessageDeflate: false,
      }),
    );
    this.connectTimer = setTimeout(() => this.refused('no answer within connectTimeoutMs', false), options.connectTimeoutMs);
    this.connectTimer.unref();
    this.socket.on('unexpected-response', (request, response) => {
      request.destroy();
      this.refused(`HTTP ${response.statusCode ?? '?'}`, response.statusCode === 429);
    });
    this.socket.on('open', () => context.with(this.live, () => this.guard('open', () => this.opened())));
    this.socket.on('message', (data: WebSocket.RawData, isBinary: boolean) =>
      context.with(this.live, () => this.guard('event', () => this.onModelFrame(data, isBinary))),
    );
    this.socket.on('error', (error: Error & { code?: string }) =>
      context.with(this.live, () => {
        const detail = error.code ?? error.message.slice(0, 200);
        if (this.state === 'connecting') this.refused(detail, false);
        else this.lost(`socket error: ${detail}`);
      }),
    );
    this.socket.on('close', (code: number) => context.with(this.live, () => this.lost(`model socket closed (${code})`)));
  }

  /** The AgentSession mediaStream drives. */
  session(): AgentSession {
    return {
      onMedia: (frame) => this.onCallerAudio(frame),
      onMark: (name) => {
        this.playback.played(name);
      },
      onStop: () => this.stop(),
    };
  }

  // ---- caller → model -------------------------------------------------------

  /** A 20 ms caller frame: to the model as received (µ-law), or queued (bounded) while the socket opens. */
  private onCallerAudio(frame: Buffer): void {
    if (this.state === 'open') {
      if (this.socket.bufferedAmount > this.options.maxModelBufferedBytes) {
        this.stats.droppedToModel += 1;
        return;
      }
      this.socket.send(APPEND_HEAD + frame.toString('base64') + APPEND_TAIL);
      return;
    }
    if (this.state !== 'connecting') return;
    if (this.queued.length < this.options.maxQueuedFrames) this.queued.push(frame);
    else this.stats.droppedToModel += 1;
  }

  private opened(): void {
    clearTimeout(this.connectTimer);
    if (this.state !== 'connecting') return;
    this.state = 'open';
    const { options, call } = this;
    const session: SessionUpdateEvent = {
      type: 'session.update',
      session: {
        type: 'realtime',
        model: options.model,
        instructions: options.instructions(call.context, call),
        output_modalities: ['audio'],
        audio: {
          input: {
            format: { type: 'audio/pcmu' },
            turn_detection: { type: 'server_vad', create_response: true, interrupt_response: true },
            transcription: { model: options.transcriptionModel },
          },
          output: { format: { type: 'audio/pcmu' }, voice: options.voice },
        },
        tools: options.toolDeclarations,
        tool_choice: 'auto',
      },
    };
    this.send(session);
    const greeting = options.greeting?.(call.context, call);
    if (greeting) this.send({ type: 'response.create', response: { instructions: greeting } } satisfies ResponseCreateEvent);
    for (const frame of this.queued.splice(0)) this.onCallerAudio(frame);
  }

  private send(event: RealtimeClientEvent): void {
    if (this.state === 'open' && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(event));
  }

  // ---- model → caller -------------------------------------------------------

  private onModelFrame(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.state !== 'open') return;
    if (isBinary) {
      this.malformed('a binary frame');
      return;
    }
    const parsed = parseServerEvent(String(data));
    if (parsed.kind === 'malformed') this.malformed(parsed.reason);
    else if (parsed.kind === 'ignored') {
      if (!parsed.known) {
        this.stats.unknownEvents += 1;
        this.problem({ type: parsed.type }, 'unknown Realtime event ignored');
      }
    } else this.onModelEvent(parsed.event);
  }

  private onModelEvent(event: HandledServerEvent): void {
    switch (event.type) {
      case 'response.output_audio.delta':
        this.onAudioDelta(event.item_id, event.delta);
        return;
      case 'response.output_audio.done':
        if (this.carry && this.carryItem === event.item_id) this.flushCarry();
        return;
      case 'input_audio_buffer.speech_started':
        this.onBargeIn();
        return;
      case 'input_audio_buffer.speech_stopped':
        this.endTurn(false);
        // The guard's turn: live-path I/O time and ioBudgetMs are then per turn.
        getLiveCall(this.live)?.startTurn();
        this.turn = {
          span: trace.getTracer(INSTRUMENTATION_NAME).startSpan(SpanNames.REALTIME_TURN, { attributes: { [Attributes.REALTIME_ITEM_ID]: event.item_id } }, this.live),
          stoppedAt: performance.now(),
        };
        return;
      case 'conversation.item.input_audio_transcription.completed':
        this.record('caller', event.transcript, event.item_id);
        return;
      case 'response.output_audio_transcript.done':
        this.record('assistant', event.transcript, event.item_id);
        return;
      case 'response.function_call_arguments.done':
        this.onToolCall(event.name, event.arguments, event.call_id, event.item_id);
        return;
      case 'response.done': {
        const { status, status_details: details } = event.response;
        if (status !== 'failed') return;
        this.stats.failedResponses += 1;
        const error = details?.error;
        const code = error?.code ?? error?.type ?? 'unknown';
        if (/rate.?limit/i.test(code)) this.stats.rateLimited += 1;
        this.fallback({ kind: 'failed_response', detail: `response failed: ${code}`.slice(0, 200) });
        return;
      }
      case 'error': {
        this.stats.modelErrors += 1;
        const { code, type, message } = event.error;
        if (/rate.?limit/i.test(`${code ?? ''} ${type}`)) this.stats.rateLimited += 1;
        this.problem({ code, type, message: String(message).slice(0, 200) }, 'Realtime error event');
        return;
      }
      case 'rate_limits.updated':
        for (const limit of event.rate_limits) {
          if (limit?.remaining === 0) {
            this.stats.rateLimited += 1;
            this.problem({ limit: limit.name, reset_seconds: limit.reset_seconds }, 'Realtime rate limit reached');
          }
        }
        return;
    }
  }

  /** Model audio, in order, frame-aligned (a partial frame waits for the next delta: no silence inserted mid-speech). */
  private onAudioDelta(itemId: string, delta: string): void {
    if (this.playback.isCut(itemId)) return;
    if (this.turn) this.endTurn(true);
    if (this.playback.unplayed > this.options.maxUnplayedMs) {
      this.stats.droppedToCaller += 1;
      return;
    }
    let audio = Buffer.from(delta, 'base64');
    if (this.carry) {
      if (this.carryItem === itemId) audio = Buffer.concat([this.carry, audio]);
      else this.flushCarry();
    }
    const whole = audio.length - (audio.length % FRAME_BYTES);
    this.carry = whole < audio.length ? audio.subarray(whole) : null;
    this.carryItem = itemId;
    if (whole > 0) this.play(itemId, whole === audio.length ? audio : audio.subarray(0, whole));
  }

  private flushCarry(): void {
    const carry = this.carry;
    this.carry = null;
    if (carry) this.play(this.carryItem, carry); // sendAudio pads the last frame with silence
  }

  private play(itemId: string, audio: Buffer): void {
    this.call.sendAudio(audio);
    this.call.mark(this.playback.sent(itemId, Math.ceil(audio.length / FRAME_BYTES) * FRAME_BYTES));
  }

  /** The caller spoke over the model: drop what Twilio has queued, and make the model forget what was not heard. */
  private onBargeIn(): void {
    this.carry = null;
    const cut = this.playback.interrupt();
    if (!cut) return;
    this.stats.bargeIns += 1;
    this.call.clear();
    this.send({ type: 'conversation.item.truncate', item_id: cut.itemId, content_index: 0, audio_end_ms: cut.playedMs } satisfies ConversationItemTruncateEvent);
    this.record('event', `caller interrupted: assistant audio truncated at ${cut.playedMs} of ${cut.sentMs} ms sent`, cut.itemId);
  }

  // ---- tools ----------------------------------------------------------------

  private onToolCall(name: string, args: string, callId: string, itemId: string): void {
    this.stats.toolCalls += 1;
    const parent = this.turn ? trace.setSpan(this.live, this.turn.span) : this.live;
    const span = trace.getTracer(INSTRUMENTATION_NAME).startSpan(SpanNames.REALTIME_TOOL, { attributes: { [Attributes.REALTIME_TOOL_NAME]: name.slice(0, 64) } }, parent);
    const started = performance.now();
    const answer = context.with(trace.setSpan(this.live, span), () =>
      answerToolCall(this.options.tools, name, args, { context: this.call.context, call: this.call as never }, this.options.maxToolOutputChars),
    );
    span.setAttributes({
      [Attributes.REALTIME_TOOL_KIND]: answer.kind,
      [Attributes.REALTIME_TOOL_OK]: answer.ok,
      [Attributes.REALTIME_TOOL_DURATION_MS]: performance.now() - started,
    });
    if (!answer.ok) {
      this.stats.toolErrors += 1;
      span.setStatus({ code: SpanStatusCode.ERROR, message: answer.output.slice(0, 200) });
    }
    span.end();
    this.record('tool', `${name.slice(0, 64)} → ${answer.output}`, itemId, { name: name.slice(0, 64), arguments: args.slice(0, 4_000), output: answer.output, ok: answer.ok });
    this.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output: answer.output } } satisfies ConversationItemCreateEvent);
    this.send({ type: 'response.create' } satisfies ResponseCreateEvent);
  }

  // ---- the transcript -------------------------------------------------------

  private record(role: TranscriptEntry['role'], text: string, itemId: string | null, tool?: TranscriptEntry['tool']): void {
    const transcript = this.options.transcript;
    if (!transcript) return;
    const entry: TranscriptEntry = { position: ++this.position, role, text, itemId, ...(tool ? { tool } : {}), at: new Date().toISOString() };
    try {
      (this.call.writes.enqueue as (operation: string, input: unknown) => unknown)(transcript.operation, transcript.input(entry));
    } catch (error) {
      this.stats.transcriptDropped += 1;
      this.problem({ err: error, position: entry.position, role }, 'transcript entry not buffered');
    }
  }

  // ---- failures -------------------------------------------------------------

  private refused(detail: string, rateLimited: boolean): void {
    if (this.state !== 'connecting') return;
    this.stats.modelRefused += 1;
    if (rateLimited) this.stats.rateLimited += 1;
    this.gone({ kind: 'refused', detail });
  }

  private lost(detail: string): void {
    if (this.state !== 'open') {
      if (this.state === 'connecting') this.refused(detail, false);
      return;
    }
    this.stats.modelLost += 1;
    this.gone({ kind: 'lost', detail });
  }

  /** The model is gone for this call: the caller hears the fallback; the call (and its writes) go on. */
  private gone(failure: ModelFailure): void {
    clearTimeout(this.connectTimer);
    this.state = 'gone';
    this.queued.length = 0;
    this.endTurn(false);
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
    this.fallback(failure);
  }

  private fallback(failure: ModelFailure): void {
    this.stats.fallbacks += 1;
    this.call.log.warn({ failure: failure.kind, detail: failure.detail, url: this.safeUrl() }, 'the Realtime model is not answering: fallback played');
    this.carry = null;
    if (this.options.fallbackAudio.length > 0) {
      this.call.sendAudio(this.options.fallbackAudio);
      this.call.mark(FALLBACK_MARK);
    }
    this.record('event', `model ${failure.kind}: ${failure.detail}`, null);
    const hook = this.options.onModelFailure;
    if (hook) this.guard('onModelFailure', () => hook(failure, this.call));
  }

  private malformed(reason: string): void {
    this.stats.malformedEvents += 1;
    this.problem({ reason }, 'malformed Realtime event ignored');
  }

  private problem(details: Record<string, unknown>, message: string): void {
    if (this.problems++ < LOGGED_PROBLEMS_PER_CALL) this.call.log.warn(details, message);
  }

  /** A handler's failure ends nothing: logged with the call sid, counted. */
  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.stats.handlerErrors += 1;
      this.problem({ err: error, where }, 'Realtime bridge handler failed');
    }
  }

  /** Origin and path only: never a query string or credentials. */
  private safeUrl(): string {
    const url = new URL(this.options.endpoint);
    return `${url.protocol}//${url.host}${url.pathname}`;
  }

  // ---- the end --------------------------------------------------------------

  private endTurn(answered: boolean): void {
    const turn = this.turn;
    if (!turn) return;
    this.turn = undefined;
    const ms = performance.now() - turn.stoppedAt;
    turn.span.setAttribute(Attributes.REALTIME_ANSWERED, answered);
    if (answered) turn.span.setAttribute(Attributes.REALTIME_FIRST_AUDIO_MS, ms);
    turn.span.end();
    recordTurn(ms, answered);
  }

  /** The call is ending: the model socket closes with it (terminated if it does not close in time). */
  private stop(): Promise<void> {
    if (this.closing) return this.closing;
    clearTimeout(this.connectTimer);
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.endTurn(false);
    const onStop = this.options.onStop;
    if (onStop) this.guard('onStop', () => onStop(this.call, { ...this.stats }));
    const stats = { ...this.stats };
    const active = trace.getActiveSpan();
    if (active) for (const [key, value] of Object.entries(stats)) active.setAttribute(`${Attributes.REALTIME_PREFIX}${key}`, value);
    this.call.log.info({ realtime: stats }, 'realtime bridge ended');
    this.onEnd(stats);
    const socket = this.socket;
    if (!wasOpen || socket.readyState !== WebSocket.OPEN) {
      if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
      return (this.closing = Promise.resolve());
    }
    this.closing = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, this.options.closeTimeoutMs);
      timer.unref();
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1000, 'call ended');
    });
    return this.closing;
  }
}
