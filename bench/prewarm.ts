// What the caller feels between the webhook and the first audio frame:
// Twilio-like timing (the webhook, a gap of gapMinMs-gapMaxMs, then the
// stream, whose first media frame carries the first 20 ms of audio), the
// share of calls whose context was ready (the agent started with it) before
// their first media frame, and the time from `start` to ready. Two places a
// stream can land: the process that answered the webhook (its context
// prefetched) and another process on the same database (loaded at `start`).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../reference/config.js';
import { DEMO_NUMBERS } from '../reference/db/seed.js';
import type { ReceptionistAgent } from '../reference/agent.js';
import { serve, type RunningServer } from '../reference/serve.js';
import { parseStreamTwiml } from '../src/testing/twiml.js';
import { TwilioStreamClient } from '../src/testing/twilio-stream-client.js';
import { median, round } from './measure.js';

export interface PrewarmOptions {
  readonly quick: boolean;
  readonly databaseUrl: string;
  /** Calls per landing place. Default 60 (quick: 3). */
  readonly calls?: number;
  /** The gap between the webhook's answer and the stream, drawn uniformly in [min, max]. Default 100-500 ms (quick: 10-20). */
  readonly gapMinMs?: number;
  readonly gapMaxMs?: number;
  /** When the first media frame follows `start` (it carries the first 20 ms of audio). Default 20 ms. */
  readonly firstFrameMs?: number;
  /** Calls under way at once. Default 1: the bench measures a call's latency, not the server's throughput (its client shares the process). */
  readonly concurrency?: number;
}

export interface LandingResult {
  readonly landed: 'webhook process' | 'another process';
  readonly calls: number;
  /** Calls whose agent started (context in hand) before their first media frame was sent, of `calls`. */
  readonly readyBeforeFirstFrame: number;
  readonly readyBeforeFirstFrameShare: number;
  /** Calls whose agent got a context (not null). */
  readonly withContext: number;
  readonly startToReadyMs: { readonly p50: number; readonly p99: number };
  readonly failed: number;
}

export interface PrewarmResults {
  readonly quick: boolean;
  readonly gapMs: readonly [number, number];
  readonly firstFrameMs: number;
  readonly landings: readonly LandingResult[];
}

/** Starts with a mark: `ready` with its context, `ready-without-context` without. */
const readyAgent: ReceptionistAgent = {
  startCall(call) {
    call.mark(call.context ? 'ready' : 'ready-without-context');
    return {};
  },
};

export function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)]!;
}

let sequence = 0;
const newCallSid = (): string => `CA${randomBytes(8).toString('hex')}${(sequence++).toString(16).padStart(16, '0')}`;

export interface CallOutcome {
  readonly callSid: string;
  readonly ok: boolean;
  readonly readyMs: number;
  readonly readyBeforeFirstFrame: boolean;
  readonly withContext: boolean;
}

/**
 * One call as Twilio places it: the webhook on `webhookUrl`, `gapMs`, the
 * stream on `streamUrl`, its first media frame `firstFrameMs` after `start`.
 * Ready: the server's first message (the agent's first output).
 */
export async function oneCall(webhookUrl: string, streamUrl: string, gapMs: number, firstFrameMs: number): Promise<CallOutcome> {
  const callSid = newCallSid();
  const failed = { callSid, ok: false, readyMs: Number.NaN, readyBeforeFirstFrame: false, withContext: false };
  const response = await fetch(`${webhookUrl}/twiml`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ CallSid: callSid, To: DEMO_NUMBERS.dental, From: '+15551230001' }).toString(),
  });
  const instruction = parseStreamTwiml(await response.text());
  if (!instruction) return failed;
  await new Promise((resolve) => setTimeout(resolve, gapMs));
  const client = await TwilioStreamClient.connect(`${streamUrl.replace('http', 'ws')}/media`);
  try {
    client.connected();
    const streamSid = `MZ${callSid.slice(2)}`;
    let firstFrameAt: number | undefined;
    const startedAt = performance.now();
    client.start({ callSid, streamSid, customParameters: instruction.parameters });
    const frame = setTimeout(() => {
      firstFrameAt = performance.now();
      client.media(Buffer.alloc(160, 0xff));
    }, firstFrameMs);
    const first = await client.waitFor(() => true);
    const readyAt = performance.now();
    clearTimeout(frame);
    client.stop(callSid);
    await client.closed;
    const name = first.event === 'mark' ? first.mark.name : '';
    return { callSid, ok: true, readyMs: readyAt - startedAt, readyBeforeFirstFrame: firstFrameAt === undefined || readyAt < firstFrameAt, withContext: name === 'ready' };
  } catch {
    client.close();
    return failed;
  }
}

export async function benchPrewarm(options: PrewarmOptions): Promise<PrewarmResults> {
  const calls = options.calls ?? (options.quick ? 3 : 60);
  const gapMs = [options.gapMinMs ?? (options.quick ? 10 : 100), options.gapMaxMs ?? (options.quick ? 20 : 500)] as const;
  const firstFrameMs = options.firstFrameMs ?? 20;
  const concurrency = options.concurrency ?? 1;
  const journalDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-bench-prewarm-'));
  const secret = randomBytes(24).toString('base64url');
  const start = (name: string): Promise<RunningServer> =>
    serve(
      loadConfig({ PORT: '0', DATABASE_URL: options.databaseUrl, JOURNAL_DIR: path.join(journalDir, name), LOG_LEVEL: 'silent', CALL_STREAM_SECRET: secret }),
      pino({ level: 'silent' }),
      { agent: readyAgent },
    );
  const webhookProcess = await start('a');
  const otherProcess = await start('b').catch(async (error: unknown) => {
    await webhookProcess.close();
    throw error;
  });
  try {
    const landings: LandingResult[] = [];
    for (const [landed, server] of [
      ['webhook process', webhookProcess],
      ['another process', otherProcess],
    ] as const) {
      // Warm-up calls, not counted: the first calls of a process pay for its JIT and cold paths.
      for (let i = 0; i < (options.quick ? 1 : 5); i++) await oneCall(webhookProcess.url, server.url, gapMs[0], firstFrameMs);
      const outcomes: CallOutcome[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < calls) {
          next += 1;
          const gap = gapMs[0] + Math.random() * (gapMs[1] - gapMs[0]);
          outcomes.push(await oneCall(webhookProcess.url, server.url, gap, firstFrameMs));
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, worker));
      const ok = outcomes.filter((o) => o.ok);
      const ready = ok.map((o) => o.readyMs).sort((a, b) => a - b);
      const before = ok.filter((o) => o.readyBeforeFirstFrame).length;
      landings.push({
        landed,
        calls: outcomes.length,
        readyBeforeFirstFrame: before,
        readyBeforeFirstFrameShare: round(before / Math.max(1, outcomes.length), 3),
        withContext: ok.filter((o) => o.withContext).length,
        startToReadyMs: { p50: round(median(ready), 2), p99: round(percentile(ready, 99), 2) },
        failed: outcomes.length - ok.length,
      });
    }
    return { quick: options.quick, gapMs, firstFrameMs, landings };
  } finally {
    await otherProcess.close();
    await webhookProcess.close();
    await fs.rm(journalDir, { recursive: true, force: true });
  }
}

export function prewarmMarkdown(results: PrewarmResults): string[] {
  return [
    `### Webhook to first frame (webhook, a ${results.gapMs[0]}-${results.gapMs[1]} ms gap, the stream; first media frame ${results.firstFrameMs} ms after \`start\`)`,
    '',
    '| stream landed on | calls | context ready before the first frame | with context | start → ready p50 / p99 (ms) | failed |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.landings.map(
      (l) =>
        `| ${l.landed} | ${l.calls} | ${l.readyBeforeFirstFrame} (${round(l.readyBeforeFirstFrameShare * 100, 1)}%) | ${l.withContext} | ${l.startToReadyMs.p50} / ${l.startToReadyMs.p99} | ${l.failed} |`,
    ),
    '',
  ];
}

/**
 * The structural figures: every call answered. (A call without its context
 * is a load past its deadline: a wall-clock effect, reported, not judged.)
 */
export function prewarmBroken(results: PrewarmResults): string[] {
  return results.landings.flatMap((l) => (l.failed > 0 ? [`prewarm: ${l.failed} of ${l.calls} calls landing on the ${l.landed} failed`] : []));
}
