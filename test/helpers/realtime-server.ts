import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type {
  ConversationItemInputAudioTranscriptionCompletedEvent,
  InputAudioBufferSpeechStartedEvent,
  InputAudioBufferSpeechStoppedEvent,
  RealtimeClientEvent,
  RealtimeServerEvent,
  ResponseAudioDeltaEvent,
  ResponseAudioDoneEvent,
  ResponseAudioTranscriptDoneEvent,
  ResponseDoneEvent,
  ResponseFunctionCallArgumentsDoneEvent,
  SessionCreatedEvent,
} from 'openai/resources/realtime/realtime';
import { WebSocketServer, type WebSocket } from 'ws';

type ClientEventOf<T extends RealtimeClientEvent['type']> = Extract<RealtimeClientEvent, { type: T }>;

let eventCounter = 0;
const eventId = (): string => `event_${++eventCounter}`;

/** Server events, built with every field the openai types require. */
export const serverEvents = {
  sessionCreated: (): SessionCreatedEvent => ({ type: 'session.created', event_id: eventId(), session: { type: 'realtime' } }),
  audioDelta: (itemId: string, responseId: string, audio: Buffer): ResponseAudioDeltaEvent => ({
    type: 'response.output_audio.delta',
    event_id: eventId(),
    item_id: itemId,
    response_id: responseId,
    output_index: 0,
    content_index: 0,
    delta: audio.toString('base64'),
  }),
  audioDone: (itemId: string, responseId: string): ResponseAudioDoneEvent => ({
    type: 'response.output_audio.done',
    event_id: eventId(),
    item_id: itemId,
    response_id: responseId,
    output_index: 0,
    content_index: 0,
  }),
  transcriptDone: (itemId: string, responseId: string, transcript: string): ResponseAudioTranscriptDoneEvent => ({
    type: 'response.output_audio_transcript.done',
    event_id: eventId(),
    item_id: itemId,
    response_id: responseId,
    output_index: 0,
    content_index: 0,
    transcript,
  }),
  responseDone: (responseId: string, status: 'completed' | 'failed' = 'completed', code?: string): ResponseDoneEvent => ({
    type: 'response.done',
    event_id: eventId(),
    response: { id: responseId, status, ...(code ? { status_details: { type: 'failed', error: { type: 'server_error', code } } } : {}) },
  }),
  speechStarted: (itemId: string, audioStartMs = 0): InputAudioBufferSpeechStartedEvent => ({
    type: 'input_audio_buffer.speech_started',
    event_id: eventId(),
    item_id: itemId,
    audio_start_ms: audioStartMs,
  }),
  speechStopped: (itemId: string, audioEndMs = 0): InputAudioBufferSpeechStoppedEvent => ({
    type: 'input_audio_buffer.speech_stopped',
    event_id: eventId(),
    item_id: itemId,
    audio_end_ms: audioEndMs,
  }),
  callerTranscript: (itemId: string, transcript: string): ConversationItemInputAudioTranscriptionCompletedEvent => ({
    type: 'conversation.item.input_audio_transcription.completed',
    event_id: eventId(),
    item_id: itemId,
    content_index: 0,
    transcript,
    usage: { type: 'duration', seconds: 1 },
  }),
  functionCall: (callId: string, name: string, args: string, responseId = 'resp_tool'): ResponseFunctionCallArgumentsDoneEvent => ({
    type: 'response.function_call_arguments.done',
    event_id: eventId(),
    item_id: `item_${callId}`,
    response_id: responseId,
    output_index: 0,
    call_id: callId,
    name,
    arguments: args,
  }),
};

/** One model socket as the local server sees it: what the bridge sent, and a way to answer. */
export class ModelConnection {
  readonly received: RealtimeClientEvent[] = [];
  readonly closed: Promise<number>;
  private readonly waiters: Array<{ match: (event: RealtimeClientEvent) => boolean; resolve: (event: RealtimeClientEvent) => void }> = [];

  constructor(
    readonly socket: WebSocket,
    readonly request: http.IncomingMessage,
  ) {
    this.closed = once(socket, 'close').then(([code]) => code as number);
    socket.on('message', (data) => {
      const event = JSON.parse(String(data)) as RealtimeClientEvent;
      this.received.push(event);
      for (const waiter of [...this.waiters]) {
        if (!waiter.match(event)) continue;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    });
  }

  /** The `n`-th (1-based) event of `type` the bridge sent, already or later. */
  waitFor<T extends RealtimeClientEvent['type']>(type: T, n = 1, match: (event: ClientEventOf<T>) => boolean = () => true): Promise<ClientEventOf<T>> {
    let seen = 0;
    const matches = (event: RealtimeClientEvent): boolean => event.type === type && match(event as ClientEventOf<T>) && ++seen === n;
    const found = this.received.find(matches);
    if (found) return Promise.resolve(found as ClientEventOf<T>);
    return new Promise((resolve, reject) => {
      this.waiters.push({ match: matches, resolve: (event) => resolve(event as ClientEventOf<T>) });
      this.closed.then((code) => reject(new Error(`model socket closed (${code}) while waiting for ${type}`)), reject);
    });
  }

  of<T extends RealtimeClientEvent['type']>(type: T): ClientEventOf<T>[] {
    return this.received.filter((event) => event.type === type) as ClientEventOf<T>[];
  }

  send(event: RealtimeServerEvent): void {
    this.socket.send(JSON.stringify(event));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  /** A spoken answer: audio deltas of `chunkBytes`, its transcript, done. */
  speak(itemId: string, responseId: string, audio: Buffer, transcript: string, chunkBytes = 800): void {
    for (let offset = 0; offset < audio.length; offset += chunkBytes) this.send(serverEvents.audioDelta(itemId, responseId, audio.subarray(offset, offset + chunkBytes)));
    this.send(serverEvents.audioDone(itemId, responseId));
    this.send(serverEvents.transcriptDone(itemId, responseId, transcript));
    this.send(serverEvents.responseDone(responseId));
  }

  close(code = 1000): void {
    this.socket.close(code);
  }
}

export interface RealtimeServerBehaviour {
  /** Answer the upgrade with this HTTP status instead (e.g. 401, 429, 503). */
  refuseWith?: number;
  /** Hold the upgrade until this settles (a slow model). */
  hold?: Promise<unknown>;
}

/**
 * A local OpenAI Realtime endpoint (GA protocol) on 127.0.0.1, port 0, over
 * plain `ws:`: every event it sends is built with the openai package's types;
 * the tests script the model's side of each conversation.
 */
export class LocalRealtimeServer {
  readonly connections: ModelConnection[] = [];
  behaviour: RealtimeServerBehaviour = {};
  private readonly waiters: Array<(connection: ModelConnection) => void> = [];

  private constructor(
    private readonly server: http.Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(): Promise<LocalRealtimeServer> {
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const local = new LocalRealtimeServer(server, wss, `ws://127.0.0.1:${port}/v1/realtime`);
    server.on('upgrade', (request, socket, head) => local.upgrade(request, socket, head));
    return local;
  }

  /** The next model socket not yet handed out (already open, or opened later). */
  nextConnection(): Promise<ModelConnection> {
    const pending = this.pending.shift();
    return pending ? Promise.resolve(pending) : new Promise((resolve) => this.waiters.push(resolve));
  }

  private upgrade(request: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const { refuseWith, hold } = this.behaviour;
    if (refuseWith) {
      socket.end(`HTTP/1.1 ${refuseWith} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    const accept = (): void =>
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        const connection = new ModelConnection(ws, request);
        this.connections.push(connection);
        connection.send(serverEvents.sessionCreated());
        const waiter = this.waiters.shift();
        if (waiter) waiter(connection);
        else this.pending.push(connection);
      });
    if (hold) hold.then(accept, accept);
    else accept();
  }

  private readonly pending: ModelConnection[] = [];

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
