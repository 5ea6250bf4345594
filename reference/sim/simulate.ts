import twilio from 'twilio';
import { DEMO_CALLERS, DEMO_NUMBERS } from '../db/seed.js';
import { percentile } from './percentile.js';
import { parseStreamTwiml, TwilioStreamClient } from '../../src/testing/index.js';

export const SCENARIOS = ['inbound', 'outbound', 'book', 'name', 'mix'] as const;
export type Scenario = (typeof SCENARIOS)[number];
type CallScenario = Exclude<Scenario, 'mix'>;

export interface SimulateOptions {
  /** The server's origin, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Calls to place in all. Default 10. */
  calls?: number;
  /** Calls live at once. Default 10. */
  concurrency?: number;
  /** How long each call lasts, in ms of real-time audio. Default 3000. */
  durationMs?: number;
  /** Default `mix`. */
  scenario?: Scenario;
  /** Seed of the scenario choice and callers: the same seed, the same calls. Default 1. */
  seed?: number;
  /**
   * Calls arrive spread over this many ms (as calls do), not all in the same
   * instant. Default: 10 ms per concurrent call, at most 5 s.
   */
  rampMs?: number;
  /** TWILIO_AUTH_TOKEN: sign the webhook and the upgrade as Twilio does. */
  authToken?: string | undefined;
  /** PUBLIC_URL the server builds its URLs from (what Twilio signs). Default `url`. */
  publicUrl?: string | undefined;
  /** Called after each call. */
  onProgress?: (done: number, total: number) => void;
}

export interface SimulatedCall {
  callSid: string;
  scenario: CallScenario;
  business: keyof typeof DEMO_NUMBERS;
  caller: string;
  ok: boolean;
  closeCode: number | undefined;
  error?: string;
  /** From the DTMF to the server's answering mark (any but the greeting's), ms (book and name calls). */
  markRttMs?: number;
}

export interface SimulationSummary {
  calls: number;
  ok: number;
  failed: number;
  closeCodes: Record<string, number>;
  markRttMs: { p50: number; p95: number; p99: number } | null;
  seconds: number;
  results: SimulatedCall[];
}

const FRAME_MS = 20;
/** A call's DTMF comes after this much audio. */
const DTMF_AT_MS = 600;
/** Low-level comfort noise: audio, but under the server's barge-in threshold. */
const COMFORT_NOISE = Buffer.from(Array.from({ length: 160 }, (_, i) => (i % 2 === 0 ? 0xfe : 0x7e)));

/** A small seeded PRNG (mulberry32): the same seed, the same calls. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Places simulated Twilio calls against a live-call-guard server, as Twilio
 * does: POST /twiml (signed when a token is given), the Stream URL and
 * parameters from the TwiML, the WebSocket (signed), `connected`, `start`,
 * 20 ms µ-law frames in real time, DTMF at a scripted moment, marks answered
 * after their audio has played, `stop`.
 */
export async function simulate(options: SimulateOptions): Promise<SimulationSummary> {
  const total = options.calls ?? 10;
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 10, total));
  const durationMs = options.durationMs ?? 3000;
  const next = random(options.seed ?? 1);
  const runId = `${Date.now().toString(16)}${Math.floor(next() * 0xffff).toString(16).padStart(4, '0')}`;
  const planned = Array.from({ length: total }, (_, i) => plan(i, runId, options.scenario ?? 'mix', next));
  const ticker = new FrameTicker();
  const started = Date.now();
  const results: SimulatedCall[] = [];
  let nextIndex = 0;

  const rampMs = options.rampMs ?? Math.min(5_000, concurrency * 10);
  const worker = async (index: number): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, (rampMs * index) / concurrency));
    while (nextIndex < planned.length) {
      const call = planned[nextIndex++]!;
      results.push(await placeCall(call, options, durationMs, ticker));
      options.onProgress?.(results.length, total);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  } finally {
    ticker.stop();
  }

  const closeCodes: Record<string, number> = {};
  for (const result of results) {
    const key = String(result.closeCode ?? 'none');
    closeCodes[key] = (closeCodes[key] ?? 0) + 1;
  }
  const rtts = results.flatMap((r) => (r.markRttMs === undefined ? [] : [r.markRttMs]));
  const ok = results.filter((r) => r.ok).length;
  return {
    calls: results.length,
    ok,
    failed: results.length - ok,
    closeCodes,
    markRttMs: rtts.length > 0 ? { p50: percentile(rtts, 50), p95: percentile(rtts, 95), p99: percentile(rtts, 99) } : null,
    seconds: (Date.now() - started) / 1000,
    results: results.sort((a, b) => a.callSid.localeCompare(b.callSid)),
  };
}

function plan(index: number, runId: string, scenario: Scenario, next: () => number): Omit<SimulatedCall, 'ok' | 'closeCode'> {
  const chosen: CallScenario = scenario === 'mix' ? (['inbound', 'outbound', 'book', 'name'] as const)[Math.floor(next() * 4)]! : scenario;
  const business = next() < 0.7 ? 'dental' : 'plumbing';
  const callers = DEMO_CALLERS[business];
  const caller = callers[Math.floor(next() * callers.length)]!;
  const callSid = `CA${runId}${index.toString(16).padStart(32 - runId.length, '0')}`.slice(0, 34);
  return { callSid, scenario: chosen, business, caller };
}

async function placeCall(
  call: Omit<SimulatedCall, 'ok' | 'closeCode'>,
  options: SimulateOptions,
  durationMs: number,
  ticker: FrameTicker,
): Promise<SimulatedCall> {
  const ourNumber = DEMO_NUMBERS[call.business];
  const outbound = call.scenario === 'outbound';
  const form: Record<string, string> = {
    CallSid: call.callSid,
    AccountSid: 'ACsimulated',
    From: outbound ? ourNumber : call.caller,
    To: outbound ? call.caller : ourNumber,
    Direction: outbound ? 'outbound-api' : 'inbound',
    CallStatus: 'in-progress',
  };
  const publicUrl = options.publicUrl ?? options.url;
  let client: TwilioStreamClient | undefined;
  try {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (options.authToken) headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(options.authToken, new URL('/twiml', publicUrl).toString(), form);
    const response = await fetch(new URL('/twiml', options.url), { method: 'POST', headers, body: new URLSearchParams(form).toString() });
    const stream = parseStreamTwiml(await response.text());
    if (response.status !== 200 || !stream) throw new Error(`webhook answered ${response.status} without a Stream`);

    // Connect where the server is, sign what Twilio would: the Stream URL as given.
    const target = new URL(new URL(stream.url).pathname, options.url);
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    client = await TwilioStreamClient.connect(target.toString(), {
      answerMarks: 'after-playback',
      ...(options.authToken ? { headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature(options.authToken, stream.url, {}) } } : {}),
    });
    const streamSid = `MZ${call.callSid.slice(2)}`;
    client.connected();
    client.start({ callSid: call.callSid, streamSid, customParameters: stream.parameters });

    const live = client;
    let markRttMs: number | undefined;
    const digit = call.scenario === 'book' ? '1' : call.scenario === 'name' ? '3' : undefined;
    await ticker.play(durationMs, (elapsedMs) => {
      live.media(COMFORT_NOISE);
      if (digit && elapsedMs === DTMF_AT_MS) {
        const sentAt = performance.now();
        live.dtmf(digit);
        // Any answering mark: a call whose context could not be loaded answers "sorry".
        void live
          .waitFor((m) => m.event === 'mark' && m.mark.name !== 'greeting')
          .then(() => (markRttMs = performance.now() - sentAt), () => undefined);
      }
    });
    client.stop(call.callSid);
    const closed = await client.closed;
    const ok = closed.code === 1000 && (digit === undefined || markRttMs !== undefined);
    return { ...call, ok, closeCode: closed.code, ...(markRttMs === undefined ? {} : { markRttMs }), ...(ok ? {} : { error: `closed ${closed.code} ${closed.reason}` }) };
  } catch (error) {
    client?.close();
    return { ...call, ok: false, closeCode: undefined, error: (error as Error).message };
  }
}

/**
 * One timer for every call's audio: each 20 ms tick sends a frame for each
 * call playing (thousands of calls do not mean thousands of timers).
 */
class FrameTicker {
  private readonly players = new Set<(tick: number) => void>();
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;

  play(durationMs: number, onFrame: (elapsedMs: number) => void): Promise<void> {
    return new Promise((resolve) => {
      const start = this.tick;
      const player = (tick: number): void => {
        const elapsedMs = (tick - start) * FRAME_MS;
        if (elapsedMs >= durationMs) {
          this.players.delete(player);
          resolve();
          return;
        }
        onFrame(elapsedMs);
      };
      this.players.add(player);
      this.timer ??= setInterval(() => {
        this.tick += 1;
        for (const p of [...this.players]) p(this.tick);
      }, FRAME_MS);
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
