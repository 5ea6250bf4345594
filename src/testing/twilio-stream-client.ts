import { once } from 'node:events';
import WebSocket from 'ws';
import type { OutboundMessage } from '../twilio/twilio-messages.js';

export interface StreamStart {
  callSid: string;
  streamSid: string;
  accountSid?: string;
  customParameters: Record<string, string>;
}

export interface StreamClientOptions {
  /** Headers of the upgrade (e.g. X-Twilio-Signature). */
  headers?: Record<string, string>;
  /** Answer the server's pings. Default true (false plays a dead peer). */
  autoPong?: boolean;
  /**
   * How marks are answered: `after-playback` as Twilio does (once the audio
   * sent before the mark has played in real time; `clear` drops it),
   * `immediately` (fast tests), or `false` (never). Default `immediately`.
   */
  answerMarks?: 'after-playback' | 'immediately' | false;
}

/**
 * Speaks the Twilio Media Streams protocol from Twilio's side: `connected`,
 * `start`, 20 ms µ-law `media` frames with Twilio's sequence numbers and
 * timestamps, `dtmf`, mark answers, `stop`.
 */
export class TwilioStreamClient {
  readonly received: OutboundMessage[] = [];
  /** Resolves with the close code and reason, whoever closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private sequence = 0;
  private chunk = 0;
  private streamSid = '';
  private readonly waiters: Array<{ match: (m: OutboundMessage) => boolean; resolve: (m: OutboundMessage) => void }> = [];
  /** Audio received, in ms. */
  private playedMs = 0;
  /** When the audio received so far will have finished playing (after-playback marks). */
  private playbackEndsAt = 0;
  /** Marks waiting for their audio to play, with how to answer them. */
  private readonly pendingMarks = new Map<NodeJS.Timeout, () => void>();

  private constructor(
    readonly socket: WebSocket,
    private readonly options: StreamClientOptions,
  ) {
    this.closed = once(socket, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
    socket.on('message', (data) => this.onMessage(String(data)));
    this.answersPings = options.autoPong ?? true;
    socket.on('ping', (data) => {
      if (this.answersPings && socket.readyState === WebSocket.OPEN) socket.pong(data);
    });
  }

  private answersPings: boolean;

  /** From now on the server's pings go unanswered: a peer that went dead mid-call. */
  stopAnsweringPings(): void {
    this.answersPings = false;
  }

  /** Opens the stream; rejects with the HTTP status when the upgrade is refused. */
  static async connect(url: string, options: StreamClientOptions = {}): Promise<TwilioStreamClient> {
    const socket = new WebSocket(url, { headers: options.headers, autoPong: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      socket.once('error', reject);
    });
    return new TwilioStreamClient(socket, options);
  }

  /** Sends any JSON (or raw text) frame as is: for protocol tests. */
  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  private send(message: object): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  connected(): void {
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  }

  start(start: StreamStart): void {
    this.streamSid = start.streamSid;
    this.send({
      event: 'start',
      sequenceNumber: String(++this.sequence),
      streamSid: start.streamSid,
      start: {
        accountSid: start.accountSid ?? 'ACsimulated',
        streamSid: start.streamSid,
        callSid: start.callSid,
        tracks: ['inbound'],
        customParameters: start.customParameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
  }

  /** One 20 ms frame (160 µ-law bytes), its keys in Twilio's order. */
  media(frame: Buffer): void {
    this.chunk += 1;
    this.send({
      event: 'media',
      sequenceNumber: String(++this.sequence),
      media: { track: 'inbound', chunk: String(this.chunk), timestamp: String(this.chunk * 20), payload: frame.toString('base64') },
      streamSid: this.streamSid,
    });
  }

  dtmf(digit: string): void {
    this.send({ event: 'dtmf', streamSid: this.streamSid, sequenceNumber: String(++this.sequence), dtmf: { track: 'inbound_track', digit } });
  }

  stop(callSid: string): void {
    this.send({ event: 'stop', sequenceNumber: String(++this.sequence), streamSid: this.streamSid, stop: { accountSid: 'ACsimulated', callSid } });
  }

  /** The first message received (already, or later) that matches. */
  waitFor(match: (message: OutboundMessage) => boolean): Promise<OutboundMessage> {
    const found = this.received.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      this.waiters.push({ match, resolve });
      // `closed` never rejects.
      this.closed.then(({ code, reason }) => reject(new Error(`stream closed (${code} ${reason}) while waiting`))).catch(() => undefined);
    });
  }

  /** Audio received so far, in milliseconds. */
  get audioMs(): number {
    return this.playedMs;
  }

  close(): void {
    this.socket.close(1000);
  }

  private answerMark(name: string, now: number): void {
    const mode = this.options.answerMarks ?? 'immediately';
    if (mode === false) return;
    const answer = (): void =>
      this.send({ event: 'mark', sequenceNumber: String(++this.sequence), streamSid: this.streamSid, mark: { name } });
    const delay = mode === 'after-playback' ? Math.max(0, this.playbackEndsAt - now) : 0;
    if (delay === 0) {
      answer();
      return;
    }
    const timer = setTimeout(() => {
      this.pendingMarks.delete(timer);
      answer();
    }, delay);
    this.pendingMarks.set(timer, answer);
    this.closed.then(() => clearTimeout(timer)).catch(() => undefined);
  }

  private onMessage(text: string): void {
    const message = JSON.parse(text) as OutboundMessage;
    this.received.push(message);
    const now = Date.now();
    if (message.event === 'media') {
      // 8 kHz µ-law: 8 bytes a millisecond; base64 is 4 characters for 3 bytes.
      const ms = Math.round((message.media.payload.replace(/=+$/, '').length * 3) / 4 / 8);
      this.playedMs += ms;
      this.playbackEndsAt = Math.max(now, this.playbackEndsAt) + ms;
    }
    if (message.event === 'clear') {
      // Queued audio is dropped and pending marks come back at once.
      this.playbackEndsAt = now;
      for (const [timer, answer] of this.pendingMarks) {
        clearTimeout(timer);
        answer();
      }
      this.pendingMarks.clear();
    }
    if (message.event === 'mark') this.answerMark(message.mark.name, now);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(message)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  }
}
