import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { WebSocket } from 'ws';
import type { TenantId } from '../buffer/journal-format.js';
import { WriteBuffer } from '../buffer/write-buffer.js';
import type { StartOfCall } from '../context/call-context-spec.js';
import { claimStream } from '../context/claim-stream.js';
import { loadContext } from '../context/load-context.js';
import { defaultClaimExpiry, type StreamClaim } from '../context/stream-claims.js';
import { CallContextLoadError, StreamReplayError } from '../errors.js';
import { Attributes, INSTRUMENTATION_NAME, SpanNames } from '../guard/attributes.js';
import { CallDbReport, runInCallPhase, withCallDbReport } from '../guard/call-db-report.js';
import { startLiveCall, type LiveCall } from '../guard/live-call.js';
import { childLogger, type Logger } from '../logger.js';
import type { AgentCall, AgentSession } from './agent.js';
import { audioChunks } from './audio-chunks.js';
import { settlesWithin } from '../settles-within.js';
import { callWritesOf } from '../buffer/call-writes.js';
import { closeReasonText, CloseCodes, type CloseReason } from './close-codes.js';
import type { MediaStreamHub } from './media-stream-hub.js';
import { parseStreamParameters } from './stream-parameters.js';
import { verifyStreamToken } from './stream-token.js';
import {
  isMediaFrame,
  isPlainMediaMessage,
  mediaFramePayload,
  mediaFrameTail,
  validateInboundMessage,
  type InboundMessage,
  type MediaFrameTail,
  type StartMessage,
} from './twilio-messages.js';

type State = 'awaiting-start' | 'loading' | 'live' | 'ending' | 'done';

/** Protocol problems logged in full per call; past this, only counted. */
const LOGGED_PROBLEMS_PER_CALL = 5;

/** Where a media-stream socket keeps its session, for the one listener every socket shares (onSocketMessage). */
const SESSION = Symbol('live-call-guard.media-session');
type SessionSocket = WebSocket & { [SESSION]: MediaSession };

/**
 * One Twilio Media Stream, as a state machine:
 * connected → start → load the CallContext (one query, `call.load_context`)
 * → live (`in_live_call`: every inbound message is handled inside it)
 * → stop or socket close → flush the WriteBuffer (`call.flush`) → done.
 * The root span `media_stream` carries the call and its DB report.
 */
export class MediaSession {
  // What every media frame reads comes first, together at the object's
  // start (V8 lays fields out in the order they are defined): with hundreds
  // of calls, a session is out of the CPU's cache when its next frame comes,
  // and each cache line it touches costs a memory load. A media frame reads
  // these fields and the tail's characters; nothing else of the call's unless
  // the agent takes audio (then feedMedia, the agent and its own state).
  private readonly hub: MediaStreamHub;
  private state: State = 'awaiting-start';
  /** Messages in the rate window; the clock is read only when it passes the limit (handleFrame). */
  private messagesInWindow = 0;
  /** The end of this stream's media frames, to recognise them on their text (null: the sid rules it out). */
  private mediaTail: MediaFrameTail | null = null;
  /** The agent's media handler, taken when the call goes live (undefined: it takes no audio). */
  private onMedia: AgentSession['onMedia'];
  /** The live call's context, which the media handler runs in. */
  private liveContext: Context | undefined;
  private readonly ws: WebSocket;
  private agent: AgentSession | undefined;
  private live: LiveCall | undefined;
  private rateWindowStartedAt = Date.now();
  private readonly root: Span;
  private readonly report = new CallDbReport();
  private readonly rootContext: Context;
  private readonly log: Logger;
  private streamSid: string | undefined;
  private callSid: string | undefined;
  private buffer: WriteBuffer | undefined;
  private readonly queued: InboundMessage[] = [];
  private problems = 0;
  private droppedWhileLoading = 0;
  private droppedAudio = 0;
  private peerAlive = true;
  private readonly timers: NodeJS.Timeout[] = [];
  private ending: Promise<void> | undefined;
  /** Resolves when the call is over and its writes are flushed (or journaled). Never rejects. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  /** Resolves when the caller's line is closed and the writes are handed to the flusher. Never rejects. */
  readonly hungUp: Promise<void>;
  private resolveHungUp!: () => void;

  constructor(ws: WebSocket, hub: MediaStreamHub) {
    this.hub = hub;
    this.ws = ws;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.hungUp = new Promise((resolve) => (this.resolveHungUp = resolve));
    this.root = trace.getTracer(INSTRUMENTATION_NAME).startSpan(SpanNames.MEDIA_STREAM, { kind: SpanKind.SERVER });
    this.rootContext = withCallDbReport(this.report, trace.setSpan(context.active(), this.root));
    this.log = childLogger(hub.logger, { trace_id: this.root.spanContext().traceId });
    const { limits } = hub;

    (ws as SessionSocket)[SESSION] = this;
    ws.on('message', MediaSession.onSocketMessage);
    ws.on('close', () => this.end('socket closed'));
    ws.on('error', (error) => {
      // A protocol error (e.g. a frame over maxPayload: ws already sent 1009):
      // end now rather than wait for the peer's close handshake.
      this.log.warn({ call_sid: this.callSid, err: error }, 'media stream socket error');
      ws.terminate();
    });
    ws.on('pong', () => (this.peerAlive = true));

    this.timers.push(
      setTimeout(() => {
        if (this.state === 'awaiting-start') this.close({ code: CloseCodes.POLICY, reason: `no start within ${limits.startTimeoutMs} ms` });
      }, limits.startTimeoutMs),
      setInterval(() => {
        if (!this.peerAlive) {
          this.log.warn({ call_sid: this.callSid }, 'media stream peer stopped answering pings');
          ws.terminate();
          return;
        }
        this.peerAlive = false;
        ws.ping();
      }, limits.heartbeatIntervalMs),
    );
    for (const timer of this.timers) timer.unref();
  }

  /** Ends the call from outside (drain): closes the socket; resolves once the writes are handed to the flusher. */
  hangUp(reason: CloseReason): Promise<void> {
    this.close(reason);
    return this.hungUp;
  }

  /**
   * The 'message' listener of every session's socket, one function for all:
   * ws calls it with the socket as `this`, and the socket holds its session.
   * A closure per session would put two more objects (the function and its
   * scope), out of the CPU's cache, on the path of every frame.
   * ws 7 (express-ws) gives text frames as strings and no isBinary; ws 8 gives Buffers and isBinary.
   */
  private static onSocketMessage(this: WebSocket, data: Buffer | string, isBinary?: boolean): void {
    (this as SessionSocket)[SESSION].onFrame(data, isBinary ?? typeof data !== 'string');
  }

  /**
   * The one entry of every inbound frame. Nothing a frame does may throw past
   * it (a throw in a ws listener would end the process): a failure ends this
   * call only (1011), its writes flushed.
   */
  private onFrame(data: Buffer | string, isBinary: boolean): void {
    try {
      const timer = this.hub.onFrameHandled;
      if (!timer) {
        this.handleFrame(data, isBinary);
        return;
      }
      const start = process.hrtime.bigint();
      this.handleFrame(data, isBinary);
      timer(Number(process.hrtime.bigint() - start));
    } catch (error) {
      this.failed('frame', error);
    }
  }

  /** A failure of ours on this call: logged with the call sid, counted, the call ended (1011); other calls go on. */
  private failed(where: string, error: unknown): void {
    this.hub.count('internal_error');
    this.log.error({ call_sid: this.callSid, err: error, where }, 'media stream failed; ending this call');
    try {
      this.close({ code: CloseCodes.INTERNAL_ERROR, reason: 'internal error' });
    } catch (closeError) {
      this.log.error({ call_sid: this.callSid, err: closeError }, 'closing a failed media stream failed');
      this.ws.terminate();
      this.end('internal error');
    }
  }

  /**
   * The rate limit: a window holds at most maxMessagesPerSecond messages and
   * lasts at least a second. When a message passes the limit, a new window
   * starts with it if the current one is a second old; else the rate is
   * exceeded. No more than the limit ever arrives within a second of a
   * window's start, and the clock is read once per window, not per frame.
   */
  private nextRateWindow(): boolean {
    const now = Date.now();
    if (now - this.rateWindowStartedAt < 1000) return false;
    this.rateWindowStartedAt = now;
    this.messagesInWindow = 1;
    return true;
  }

  private handleFrame(data: Buffer | string, isBinary: boolean): void {
    if (this.state === 'ending' || this.state === 'done') return;
    if (++this.messagesInWindow > this.hub.limits.maxMessagesPerSecond && !this.nextRateWindow()) {
      this.close({ code: CloseCodes.POLICY, reason: 'message rate exceeded' });
      return;
    }
    if (isBinary) {
      this.close({ code: CloseCodes.UNSUPPORTED_DATA, reason: 'binary frames are not accepted' });
      return;
    }
    const text = typeof data === 'string' ? data : data.toString('utf8');
    // The hot path: a live call's media frame as Twilio writes it, recognised
    // on its text (twilio-messages.ts, MediaFrameTail), no JSON.parse.
    const tail = this.mediaTail;
    if (this.state === 'live' && tail !== null && isMediaFrame(text, tail)) {
      // The live context is entered here, inside the listener (see below); no closure per frame.
      if (this.onMedia) context.with(this.liveContext!, this.feedMedia, undefined, mediaFramePayload(text, tail));
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.problem('invalid', 'not JSON');
      return;
    }
    // A media frame in another form, checked by hand with zod's rules
    // (twilio-messages.ts); anything else, or anything unusual, goes
    // through zod below.
    if (this.state === 'live' && isPlainMediaMessage(json)) {
      if (json.streamSid !== this.streamSid) {
        this.close({ code: CloseCodes.POLICY, reason: 'message for another streamSid' });
        return;
      }
      // The live context is entered here, inside the listener (see below); no closure per frame.
      if (this.onMedia) context.with(this.liveContext!, this.feedMedia, undefined, json.media.payload);
      return;
    }
    const parsed = validateInboundMessage(json);
    if (!parsed.ok) {
      this.problem('invalid', parsed.reason);
      return;
    }
    const message = parsed.message;
    if (message.event === 'connected') return;
    if (message.event === 'start') {
      if (this.state === 'awaiting-start') this.begin(message).catch((error: unknown) => this.failed('start', error));
      else this.close({ code: CloseCodes.POLICY, reason: 'second start message' });
      return;
    }
    if (this.state === 'awaiting-start') {
      this.problem('out_of_order', `${message.event} before start`);
      return;
    }
    if (message.streamSid !== this.streamSid) {
      this.close({ code: CloseCodes.POLICY, reason: 'message for another streamSid' });
      return;
    }
    if (this.state === 'loading') {
      if (this.queued.length < this.hub.limits.maxQueuedWhileLoading) this.queued.push(message);
      else this.droppedWhileLoading += 1;
      return;
    }
    // The live context is entered here, inside the listener: listeners run
    // in the socket's context, not in the one they were registered in.
    this.live!.run(() => this.dispatch(message));
  }

  private async begin(message: StartMessage): Promise<void> {
    const { callSid, streamSid, customParameters } = message.start;
    const { app } = this.hub;
    const { token, ...parameters } = customParameters;
    const parsed = parseStreamParameters(app, parameters);
    if (!parsed.ok) {
      this.close({ code: CloseCodes.POLICY, reason: `invalid customParameters: ${parsed.problem}` });
      return;
    }
    const { tenantId, direction } = parsed;
    // What the call-start statement claims, so that a replayed stream is refused.
    let streamKey = `stream:${streamSid}`;
    let streamKeyExpiresAt = defaultClaimExpiry();
    const secret = this.hub.streamSecret;
    if (secret) {
      const check = verifyStreamToken(secret, token, { callSid, parameters });
      if (!check.ok) {
        this.close({ code: CloseCodes.POLICY, reason: check.reason });
        return;
      }
      streamKey = `token:${check.nonce}`;
      streamKeyExpiresAt = new Date(check.expiresAt * 1000);
    }
    const refusal = this.hub.startRefusal();
    if (refusal) {
      this.hub.refused('start', refusal);
      this.close({ code: CloseCodes.TRY_AGAIN_LATER, reason: refusal });
      return;
    }
    if (!this.hub.claim(callSid)) {
      this.close({ code: CloseCodes.POLICY, reason: 'a stream for this call is already live' });
      return;
    }
    this.callSid = callSid;
    this.streamSid = streamSid;
    this.mediaTail = mediaFrameTail(streamSid);
    this.state = 'loading';
    this.root.setAttributes({
      [Attributes.CALL_SID]: callSid,
      [Attributes.CONVERSATION_ID]: callSid,
      [Attributes.STREAM_SID]: streamSid,
      [Attributes.TENANT_ID]: String(tenantId),
      [Attributes.DIRECTION]: direction,
    });

    const start: StartOfCall<TenantId> = { callSid, streamSid, tenantId, parameters };
    let callContext: unknown = null;
    try {
      callContext = await context.with(this.rootContext, () =>
        runInCallPhase('load', () => this.loadOrClaim(start, { key: streamKey, callSid, tenantId: String(tenantId), expiresAt: streamKeyExpiresAt })),
      );
    } catch (error) {
      if (error instanceof StreamReplayError) {
        this.hub.count('replayed');
        this.close({ code: CloseCodes.POLICY, reason: 'stream already started once (replay)' });
        return;
      }
      if (!(error instanceof CallContextLoadError)) {
        // An unknown tenant: nothing to bind the call's writes to.
        this.log.warn({ call_sid: callSid, err: error }, 'call refused: its tenant cannot be loaded');
        this.close({ code: CloseCodes.POLICY, reason: (error as Error).message });
        return;
      }
      this.hub.count('context_unavailable');
      this.log.warn({ call_sid: callSid, err: error }, 'call context unavailable: the call goes on without it');
    }
    if (this.state !== 'loading') return; // the socket closed while loading
    this.checkLoadPhase();

    try {
      this.buffer = new WriteBuffer({
        operations: app.writes,
        callSid,
        streamSid,
        tenantId,
        bindings: { direction, ...app.bindings?.(callContext, start) },
        journal: this.hub.journal,
        onJournalFailure: (error) =>
          this.log.error({ call_sid: callSid, err: error }, 'the journal cannot take this call\'s writes: they stay in memory until the call ends'),
      });
    } catch (error) {
      // The journal cannot take a new call (disk full, read-only): refuse it cleanly.
      this.log.error({ call_sid: callSid, err: error }, 'call refused: its writes cannot be journaled');
      this.close({ code: CloseCodes.TRY_AGAIN_LATER, reason: 'the write journal is unavailable' });
      return;
    }
    const { ioBudgetMs } = this.hub.limits;
    this.live = startLiveCall({ callSid, tenantId, ...(ioBudgetMs === undefined ? {} : { ioBudgetMs }) }, this.rootContext);
    this.state = 'live';
    const agentCall = this.agentCall(callContext, tenantId, direction, parameters);
    this.liveContext = this.live.context;
    this.live.run(() => {
      this.agent = this.guarded('start', () => this.hub.agent.startCall(agentCall));
      this.onMedia = this.agent?.onMedia;
      for (const queued of this.queued.splice(0)) this.dispatch(queued);
    });
  }

  /**
   * The call's one statement at `start`. The context loaded at the webhook
   * in this process (see ContextPrefetch), if any, is taken and only the
   * stream is claimed (a read's cost); else the context is loaded with the
   * claim in the same statement, as without a prefetch. A prefetch that
   * failed counts as none. A claim that fails for another reason than a
   * replay (the database down, the deadline) proves nothing about a replay,
   * so the context is not handed over (fail closed): the call goes on
   * without it, as when the load fails.
   */
  private async loadOrClaim(start: StartOfCall<TenantId>, claim: StreamClaim): Promise<unknown> {
    const { knex, app, limits } = this.hub;
    const timeoutMs = limits.contextLoadTimeoutMs;
    const startedAt = performance.now();
    const prefetched = this.hub.prefetched.take(start);
    const loaded = prefetched && (await prefetched.then((value) => ({ value }), () => undefined));
    const schema = app.schema ? { claimsSchema: app.schema } : {};
    try {
      if (!loaded) return await loadContext(knex, app.context, start, { timeoutMs, streamKey: claim.key, streamKeyExpiresAt: claim.expiresAt, ...schema });
      this.root.setAttribute(Attributes.CONTEXT_PREFETCHED, true);
      await claimStream(knex, claim, { timeoutMs, ...(app.schema ? { schema: app.schema } : {}) });
      return loaded.value;
    } finally {
      // What the start waited for its context, failed or not (a timeout is the figure to see).
      this.hub.metrics.contextLoaded(performance.now() - startedAt, Boolean(loaded));
    }
  }

  /**
   * The load phase is ONE statement. More (an app's query function or
   * fromRow that ran its own queries) is the app's bug: with `strictLoad`
   * (the default outside production) the call is ended (1011) so tests
   * and development see it at once; in production it is logged and counted
   * and the call goes on. Counted from the pg spans (needs the guard's SDK).
   */
  private checkLoadPhase(): void {
    const statements = this.report.figures().queries.load;
    if (statements <= 1) return;
    this.hub.count('extra_load_statements');
    this.root.setAttribute(Attributes.LOAD_EXTRA_STATEMENTS, statements - 1);
    const message = `the start-of-call load ran ${statements} statements; it must run one`;
    if (this.hub.strictLoad) throw new CallContextLoadError(message);
    this.log.warn({ call_sid: this.callSid, statements }, message);
  }

  /** Runs inside the live call. */
  private dispatch(message: InboundMessage): void {
    const agent = this.agent;
    switch (message.event) {
      case 'media':
        if (this.onMedia) this.feedMedia(message.media.payload);
        return;
      case 'dtmf':
        if (agent?.onDtmf) this.guarded('dtmf', () => agent.onDtmf!(message.dtmf.digit));
        return;
      case 'mark':
        if (agent?.onMark) this.guarded('mark', () => agent.onMark!(message.mark.name));
        return;
      case 'stop':
        this.end('stop');
        return;
      default:
        return;
    }
  }

  private agentCall(
    callContext: unknown,
    tenantId: TenantId,
    direction: 'inbound' | 'outbound',
    parameters: Readonly<Record<string, string>>,
  ): AgentCall {
    const streamSid = this.streamSid!;
    const send = (message: object): void => {
      if (this.ws.readyState !== this.ws.OPEN) return;
      if (this.ws.bufferedAmount > this.hub.limits.maxBufferedBytes) {
        this.droppedAudio += 1;
        return;
      }
      this.ws.send(JSON.stringify(message));
    };
    return {
      callSid: this.callSid!,
      streamSid,
      tenantId,
      direction,
      parameters,
      context: callContext,
      writes: callWritesOf(this.buffer!),
      // A child of the hub's logger, not of the session's: a pino child is its
      // parent's prototype-chained copy, and a grandchild per call would turn
      // each session's logger into a prototype (a hidden class per call).
      log: childLogger(this.hub.logger, { trace_id: this.root.spanContext().traceId, call_sid: this.callSid }),
      sendAudio: (mulaw) => {
        // Up to a second of audio per message: Twilio queues it all the same,
        // and one message costs what fifty 20 ms ones would.
        for (const chunk of audioChunks(mulaw)) send({ event: 'media', streamSid, media: { payload: chunk.toString('base64') } });
      },
      mark: (name) => send({ event: 'mark', streamSid, mark: { name } }),
      clear: () => send({ event: 'clear', streamSid }),
    };
  }

  /**
   * One media frame to the agent's onMedia, inside the live call: `guarded`
   * without a closure per frame (50 a second per call). One function per
   * session, given to context.with without a `this` (given one, it binds a
   * new function per frame). The frame is a new Buffer each time: an agent
   * may keep it (the AgentSession contract says nothing else).
   */
  private readonly feedMedia = (payload: string): void => {
    try {
      const result: unknown = this.onMedia!.call(this.agent, Buffer.from(payload, 'base64'));
      if (result instanceof Promise) result.catch(this.mediaFailed);
    } catch (error) {
      this.agentFailed('media', error);
    }
  };

  private readonly mediaFailed = (error: unknown): void => this.agentFailed('media', error);

  private agentFailed(what: string, error: unknown): void {
    this.hub.count('agent_error');
    if (this.problems++ < LOGGED_PROBLEMS_PER_CALL) this.log.warn({ call_sid: this.callSid, err: error, handler: what }, 'agent handler failed');
  }

  /**
   * Runs an agent handler; its failure, thrown or as a rejected promise, is
   * logged and counted, and the call goes on.
   */
  private guarded<T>(what: string, fn: () => T): T | undefined {
    const failed = (error: unknown) => this.agentFailed(what, error);
    try {
      const result = fn();
      if (result instanceof Promise) result.catch(failed);
      return result;
    } catch (error) {
      failed(error);
      return undefined;
    }
  }

  private problem(kind: 'invalid' | 'out_of_order', reason: string): void {
    this.hub.count(kind);
    if (this.problems++ < LOGGED_PROBLEMS_PER_CALL) {
      this.log.warn({ call_sid: this.callSid, kind, reason }, 'media stream message dropped');
    }
  }

  private close({ code, reason }: CloseReason): void {
    const text = closeReasonText(reason);
    if (code !== CloseCodes.NORMAL) {
      this.hub.count('closed_by_server');
      this.log.warn({ call_sid: this.callSid, code, reason: text }, 'closing media stream');
    }
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, text);
    this.end(reason);
  }

  /** Starts ending the call (once); `done` says when it is over. Never throws. */
  private end(why: string): void {
    this.ending ??= this.finish(why).catch((error: unknown) => {
      this.log.error({ call_sid: this.callSid, err: error }, 'ending the media stream failed');
      this.resolveHungUp();
      this.resolveDone();
    });
  }

  /**
   * Stops the agent, hangs up (the socket closes now: the flush never holds
   * the caller's line), then lands the writes with the flusher.
   */
  private async finish(why: string): Promise<void> {
    const wasLive = this.state === 'live';
    this.state = 'ending';
    for (const timer of this.timers) clearTimeout(timer);
    try {
      if (wasLive) {
        const agent = this.agent;
        const stopping = agent?.onStop ? this.live!.run(() => this.guarded('stop', () => agent.onStop!())) : undefined;
        if (stopping instanceof Promise) await settlesWithin(stopping, this.hub.limits.stopTimeoutMs);
        this.live!.end();
      }
      if (this.ws.readyState === this.ws.OPEN) this.ws.close(CloseCodes.NORMAL, 'call ended');
      this.buffer?.close();
      this.resolveHungUp();
      if (this.buffer) {
        const buffer = this.buffer;
        const outcome = await context.with(this.rootContext, () => runInCallPhase('flush', () => this.hub.flusher.flush(buffer)));
        if (outcome.status !== 'flushed') {
          this.root.setStatus({ code: SpanStatusCode.ERROR, message: `writes ${outcome.status}` });
        }
      }
    } catch (error) {
      this.root.setStatus({ code: SpanStatusCode.ERROR, message: 'call ended with an error' });
      this.log.error({ call_sid: this.callSid, err: error }, 'media stream ended with an error');
    } finally {
      this.report.applyTo(this.root);
      const { queries, timeMs } = this.report.figures();
      if (this.callSid) {
        this.log.info(
          { call_sid: this.callSid, why, db: { queries, timeMs }, dropped_while_loading: this.droppedWhileLoading, dropped_audio: this.droppedAudio },
          'call ended',
        );
        this.hub.release(this.callSid);
      }
      this.root.end();
      this.state = 'done';
      if (this.ws.readyState === this.ws.OPEN) this.ws.close(CloseCodes.NORMAL, 'call ended');
      this.resolveHungUp();
      this.resolveDone();
      this.hub.ended(this.callSid, this.streamSid, why);
    }
  }
}
