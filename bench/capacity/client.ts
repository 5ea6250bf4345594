// The capacity bench's load generator: a lean Twilio, in a process of its
// own (forked with an IPC channel), the same for the bare floor and for our
// server. Per level: every call POSTs /twiml like Twilio (form body), opens
// the Stream URL of the TwiML, sends connected + start with its
// customParameters, then a media frame every 20 ms from ONE ticker for all
// calls (of every level running at once: side by side, one per server), one DTMF ('2') per call spread over the steady window (after the
// greeting mark), echoes every mark at once, measures DTMF → answering mark,
// sends stop and checks the close.
//
// Lean: frames are strings concatenated from parts built once per call, the
// masking key is zero (ws then skips masking: a copy and a pass per frame),
// incoming media is recognised by one byte and never parsed.
import http from 'node:http';
import WebSocket from 'ws';
import { DEMO_CALLERS, DEMO_NUMBERS } from '../../reference/db/seed.js';
import { parseStreamTwiml } from '../../src/testing/twiml.js';
import type { ClientMessage, LevelReport, LevelRequest } from './protocol.js';

const FRAME_MS = 20;
/** Low-level comfort noise (as the simulator sends): audio, under the receptionist's barge-in threshold. */
const PAYLOAD = Buffer.from(Array.from({ length: 160 }, (_, i) => (i % 2 === 0 ? 0xfe : 0x7e))).toString('base64');
/** DTMF 2: the receptionist notes a callback request and answers with the `noted` mark. */
const DIGIT = '2';
/** Offsets in an outbound frame `{"event":"…`: byte 10 is the event's first letter. */
const EVENT_AT = 10;
const LETTER_M = 0x6d;
const LETTER_A = 0x61;

// Idle webhook connections are dropped after 4 s, before the server's keep-alive timeout (5 s) could close one
// under a request just sent on it (a read ECONNRESET that says nothing of the server).
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4_000 });

function send(message: ClientMessage): void {
  process.send?.(message);
}

type Phase = 'posting' | 'connecting' | 'live' | 'stopping' | 'done';

class Call {
  phase: Phase = 'posting';
  ws: WebSocket | undefined;
  streamSid = '';
  private sequence = 0;
  private chunk = 0;
  /** The parts of a media frame around its sequence number, chunk and timestamp. */
  private mediaTail = '';
  greeted = false;
  /** When the DTMF is due (performance.now()); 0 = none planned. */
  dtmfDueAt = 0;
  dtmfSentAt = 0;
  answerMs: number | undefined;
  failure: string | undefined;
  stopSent = false;
  closeCode: number | undefined;

  constructor(
    readonly callSid: string,
    readonly to: string,
    readonly from: string,
    private readonly level: Level,
  ) {}

  async place(url: string): Promise<void> {
    try {
      const twiml = await postForm(new URL('/twiml', url), {
        CallSid: this.callSid,
        AccountSid: 'ACcapacitybench',
        From: this.from,
        To: this.to,
        Direction: 'inbound',
        CallStatus: 'in-progress',
      });
      const stream = parseStreamTwiml(twiml);
      if (!stream) {
        // A clean refusal (the server is at MAX_LIVE_CALLS): Twilio plays the caller a busy signal.
        this.fail(/<Reject\b[^>]*reason="busy"/.test(twiml) ? 'refused: busy TwiML' : 'webhook answered without a Stream');
        return;
      }
      // Connect where the server is (the Stream URL's host may be a public one).
      const target = new URL(new URL(stream.url).pathname, url);
      target.protocol = 'ws:';
      this.phase = 'connecting';
      const ws = new WebSocket(target, {
        perMessageDeflate: false,
        skipUTF8Validation: true,
        generateMask: (mask) => mask.fill(0),
      });
      this.ws = ws;
      ws.on('message', (data: Buffer) => this.onMessage(data));
      ws.on('error', (error) => this.fail(`socket error: ${error.message.slice(0, 60)}`));
      ws.on('close', (code) => this.onClose(code));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('close', () => reject(new Error('upgrade failed')));
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(res.statusCode === 503 ? 'refused: upgrade 503' : `upgrade refused: ${res.statusCode}`)),
        );
      });
      this.streamSid = `MZ${this.callSid.slice(2)}`;
      this.mediaTail = `","payload":"${PAYLOAD}"},"streamSid":"${this.streamSid}"}`;
      ws.send('{"event":"connected","protocol":"Call","version":"1.0.0"}');
      ws.send(
        JSON.stringify({
          event: 'start',
          sequenceNumber: String(++this.sequence),
          start: {
            accountSid: 'ACcapacitybench',
            streamSid: this.streamSid,
            callSid: this.callSid,
            tracks: ['inbound'],
            customParameters: stream.parameters,
            mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
          },
          streamSid: this.streamSid,
        }),
      );
      this.phase = 'live';
      this.level.live.add(this);
    } catch (error) {
      this.fail((error as Error).message.slice(0, 60));
    }
  }

  /** One 20 ms frame, as Twilio numbers them (strings). */
  media(): void {
    this.chunk += 1;
    this.ws!.send(
      `{"event":"media","sequenceNumber":"${++this.sequence}","media":{"track":"inbound","chunk":"${this.chunk}","timestamp":"${this.chunk * FRAME_MS}${this.mediaTail}`,
    );
  }

  dtmf(now: number): void {
    this.dtmfSentAt = now;
    this.ws!.send(
      `{"event":"dtmf","streamSid":"${this.streamSid}","sequenceNumber":"${++this.sequence}","dtmf":{"track":"inbound_track","digit":"${DIGIT}"}}`,
    );
  }

  stop(): void {
    if (this.phase !== 'live') return;
    this.phase = 'stopping';
    this.level.live.delete(this);
    this.stopSent = true;
    this.ws!.send(
      `{"event":"stop","sequenceNumber":"${++this.sequence}","streamSid":"${this.streamSid}","stop":{"accountSid":"ACcapacitybench","callSid":"${this.callSid}"}}`,
    );
  }

  private onMessage(data: Buffer): void {
    // Outbound media is by far the most frequent: recognised by one byte, never parsed.
    if (data[EVENT_AT] !== LETTER_M || data[EVENT_AT + 1] !== LETTER_A) return;
    const { mark } = JSON.parse(data.toString()) as { mark: { name: string } };
    // Twilio answers a mark once the audio before it has played; at once is enough here.
    if (this.ws!.readyState === WebSocket.OPEN) {
      this.ws!.send(
        `{"event":"mark","sequenceNumber":"${++this.sequence}","streamSid":"${this.streamSid}","mark":${JSON.stringify({ name: mark.name })}}`,
      );
    }
    if (mark.name === 'greeting') {
      if (!this.greeted) {
        this.greeted = true;
        this.level.onGreeted();
        // A DTMF that came due before the greeting goes now.
        const now = performance.now();
        if (this.dtmfDueAt > 0 && this.dtmfDueAt <= now && this.dtmfSentAt === 0 && this.phase === 'live') this.dtmf(now);
      }
    } else if (this.dtmfSentAt > 0 && this.answerMs === undefined) {
      this.answerMs = performance.now() - this.dtmfSentAt;
      this.level.onAnswered();
    }
  }

  private onClose(code: number): void {
    this.closeCode = code;
    if (this.phase === 'live') this.fail(code === 1013 ? 'refused: start 1013' : `closed by the server before stop (${code})`);
    else if (this.stopSent && code !== 1000) this.fail(`closed abnormally after stop (${code})`);
    this.finish();
  }

  fail(reason: string): void {
    this.failure ??= reason;
    // Before the socket is open, a failure ends the call; after, its close does.
    if (this.phase === 'posting' || this.phase === 'connecting') this.finish();
  }

  /** Counted once, however the call ends. */
  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.level.live.delete(this);
    this.level.onClosed(this);
  }
}

function postForm(url: URL, form: Record<string, string>): Promise<string> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`webhook answered ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('webhook timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Nearest-rank percentile of sorted numbers. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Resolves once `done()` holds (checked whenever `poke` runs) or after `ms`. */
class Waiter {
  private resolve: (() => void) | undefined;
  wait(done: () => boolean, ms: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), ms);
      const finish = (): void => {
        clearTimeout(timer);
        this.resolve = undefined;
        resolve();
      };
      this.resolve = () => {
        if (done()) finish();
      };
    });
  }
  poke(): void {
    this.resolve?.();
  }
}

/**
 * The one 20 ms ticker of this process, for every level running in it (side
 * by side: one level per server, at once): each tick sends every live call
 * of every level its frame, the levels taking turns at going first, so that
 * every server gets its frames in the same bursts. Self-correcting: the next
 * tick is due 20 ms after this one was due, not after it ran; a tick missed
 * altogether is skipped (counted by each level), never made up in a burst.
 */
class Ticker {
  private readonly levels: Level[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextTickAt = 0;
  private turn = 0;

  add(level: Level): void {
    this.levels.push(level);
    if (this.levels.length > 1) return;
    this.nextTickAt = performance.now() + FRAME_MS;
    this.timer = setTimeout(this.tick, FRAME_MS);
  }

  remove(level: Level): void {
    const at = this.levels.indexOf(level);
    if (at === -1) return;
    this.levels.splice(at, 1);
    if (this.levels.length === 0) clearTimeout(this.timer);
  }

  private tick = (): void => {
    const now = performance.now();
    const late = now - this.nextTickAt;
    const count = this.levels.length;
    for (let i = 0; i < count; i += 1) this.levels[(this.turn + i) % count]!.onTick(now, late);
    this.turn += 1;
    this.nextTickAt += FRAME_MS;
    const after = performance.now();
    if (after - this.nextTickAt > FRAME_MS) {
      const skipped = Math.floor((after - this.nextTickAt) / FRAME_MS);
      for (const level of this.levels) level.onTicksSkipped(skipped);
      this.nextTickAt = after;
    }
    this.timer = setTimeout(this.tick, Math.max(0, this.nextTickAt - performance.now()));
  };
}

const ticker = new Ticker();

class Level {
  readonly live = new Set<Call>();
  readonly calls: Call[] = [];
  private greeted = 0;
  private answered = 0;
  private closed = 0;
  private readonly waiter = new Waiter();
  private steady = false;
  private readonly tickLate: number[] = [];
  private framesSent = 0;
  private ticksSkipped = 0;
  /** Calls whose DTMF is planned, by due time. */
  private dtmfQueue: Call[] = [];

  constructor(private readonly request: LevelRequest) {}

  onGreeted(): void {
    this.greeted += 1;
    this.waiter.poke();
  }
  onAnswered(): void {
    this.answered += 1;
    this.waiter.poke();
  }
  onClosed(_call: Call): void {
    this.closed += 1;
    this.waiter.poke();
  }

  /** A tick of the ticker: a frame for every live call, DTMFs that are due; `late` is how late the tick ran (ms). */
  onTick(now: number, late: number): void {
    if (this.steady) this.tickLate.push(late);
    for (const call of this.live) {
      call.media();
      if (this.steady) this.framesSent += 1;
    }
    while (this.dtmfQueue.length > 0 && this.dtmfQueue[0]!.dtmfDueAt <= now) {
      const call = this.dtmfQueue[0]!;
      if (call.phase !== 'live') {
        this.dtmfQueue.shift();
        continue;
      }
      this.dtmfQueue.shift();
      // The first DTMF comes after the greeting: an ungreeted call sends it when greeted.
      if (call.greeted) call.dtmf(now);
    }
  }

  onTicksSkipped(skipped: number): void {
    if (this.steady) this.ticksSkipped += skipped;
  }

  async run(): Promise<LevelReport> {
    const { calls, rampMs, url, runId } = this.request;
    ticker.add(this);
    try {
      // Ramp: calls arrive spread over rampMs, as calls do.
      const started = performance.now();
      const placing: Array<Promise<void>> = [];
      for (let i = 0; i < calls; i += 1) {
        const wait = started + (rampMs * i) / calls - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        const business = i % 10 < 7 ? 'dental' : 'plumbing';
        const callers = DEMO_CALLERS[business];
        const callSid = `CA${runId}${i.toString(16).padStart(32 - runId.length, '0')}`;
        const call = new Call(callSid, DEMO_NUMBERS[business], callers[i % callers.length]!, this);
        this.calls.push(call);
        placing.push(call.place(url));
      }
      await Promise.all(placing);
      await this.waiter.wait(() => this.greeted + this.failedSoFar() >= calls, this.request.greetTimeoutMs);
      await new Promise((resolve) => setTimeout(resolve, this.request.settleMs));

      // The steady window: one DTMF per call, spread over its first 80%.
      const steadyStart = performance.now();
      const cpuStart = process.cpuUsage();
      this.steady = true;
      send({ type: 'steady-start', runId: this.request.runId });
      this.calls.forEach((call, i) => (call.dtmfDueAt = steadyStart + ((i + 0.5) / calls) * this.request.steadyMs * 0.8));
      this.dtmfQueue = this.calls.filter((call) => call.phase === 'live');
      await new Promise((resolve) => setTimeout(resolve, this.request.steadyMs));
      this.steady = false;
      const cpu = process.cpuUsage(cpuStart);
      const steadyMs = performance.now() - steadyStart;
      send({ type: 'steady-end', runId: this.request.runId });

      const planned = this.calls.filter((call) => call.dtmfDueAt > 0 && call.failure === undefined);
      await this.waiter.wait(() => planned.every((call) => call.answerMs !== undefined || call.phase === 'done'), this.request.answerGraceMs);
      for (const call of this.calls) {
        if (call.phase !== 'live') continue;
        if (!call.greeted) call.fail('never greeted');
        else if (call.dtmfSentAt === 0) call.fail('DTMF never sent (greeting late)');
        else if (call.answerMs === undefined) call.fail('DTMF never answered');
        call.stop();
      }
      await this.waiter.wait(() => this.closed >= calls, this.request.closeTimeoutMs);
      for (const call of this.calls) {
        if (call.phase === 'done') continue;
        call.fail('not closed after stop');
        call.ws?.terminate();
      }

      const failures: Record<string, number> = {};
      const closeCodes: Record<string, number> = {};
      for (const call of this.calls) {
        if (call.failure !== undefined) failures[call.failure] = (failures[call.failure] ?? 0) + 1;
        const code = String(call.closeCode ?? 'none');
        closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      }
      const answers = this.calls.flatMap((call) => (call.answerMs === undefined ? [] : [call.answerMs])).sort((a, b) => a - b);
      const late = this.tickLate.sort((a, b) => a - b);
      return {
        type: 'result',
        runId,
        calls,
        failed: this.failedSoFar(),
        failures,
        answerMs: { count: answers.length, p50: round(percentile(answers, 50)), p99: round(percentile(answers, 99)), max: round(answers.at(-1) ?? 0) },
        clientCores: round((cpu.user + cpu.system) / 1000 / steadyMs, 3),
        tickLateMs: { p99: round(percentile(late, 99)), max: round(late.at(-1) ?? 0) },
        framesSent: this.framesSent,
        ticksSkipped: this.ticksSkipped,
        steadyMs: round(steadyMs, 0),
        closeCodes,
      };
    } finally {
      ticker.remove(this);
      for (const call of this.calls) call.ws?.terminate();
    }
  }

  private failedSoFar(): number {
    return this.calls.reduce((n, call) => n + (call.failure === undefined ? 0 : 1), 0);
  }
}

process.on('message', (message: LevelRequest) => {
  if (message.type !== 'level') return;
  // Levels may run at once (side by side: one per server), each told apart by its runId.
  new Level(message).run().then(send, (error: unknown) => send({ type: 'error', runId: message.runId, message: String((error as Error)?.stack ?? error) }));
});
// The orchestrator going away ends this process: never an orphan.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
