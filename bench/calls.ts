import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { naiveReceptionistAgent } from '../reference/naive-agent.js';
import { receptionistAgent } from '../reference/agent.js';
import { serve, type RunningServer } from '../reference/serve.js';
import { loadConfig, type GuardMode } from '../reference/config.js';
import type { LiveCallGuardProcessor } from '../src/guard/live-call-guard-processor.js';
import { round } from './measure.js';

export type Server = 'naive' | 'cached';

export interface LevelResult {
  server: Server;
  calls: number;
  failed: number;
  /** Server-side time to handle one inbound message (µs). */
  frameUs: { p50: number; p99: number; p999: number };
  eventLoopDelayP99Ms: number;
  messages: number;
}

export interface PhaseFigures {
  calls: number;
  queries: { load: number; live: number; flush: number };
  commits: { load: number; live: number; flush: number };
  dbTimeMs: { load: number; live: number; flush: number; total: number };
}

export interface CallsBench {
  durationMs: number;
  phases: { naive: PhaseFigures; cached: PhaseFigures };
  levels: LevelResult[];
  guardModes: Array<LevelResult & { mode: GuardMode; p99OverOff: number }>;
}

/** Keeps the attributes of ended `media_stream` spans: each call's DB report. */
export class CallSpanCollector implements SpanProcessor {
  calls: Attributes[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if (span.name === 'media_stream' && this.calls.length < 100_000) this.calls.push(span.attributes);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Real-time calls from the simulator (a separate process) against the
 * server in this process: per-call DB figures by phase, naive vs cached;
 * media-frame handling latency and event-loop delay by concurrency; guard
 * modes. Capacity is measured from outside: bench/capacity/.
 */
export async function benchCalls(options: {
  quick: boolean;
  databaseUrl: string;
  guard: LiveCallGuardProcessor;
  collector: CallSpanCollector;
}): Promise<CallsBench> {
  const durationMs = options.quick ? 2_000 : 6_000;
  const frames = createHistogram();
  const onFrameHandled = (ns: number): void => frames.record(Math.max(1, Math.round(ns)));
  const journalDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-bench-journal-'));
  const start = async (agent: 'naive' | 'cached'): Promise<RunningServer> =>
    serve(
      loadConfig({ PORT: '0', DATABASE_URL: options.databaseUrl, JOURNAL_DIR: journalDir, LOG_LEVEL: 'silent', DRAIN_TIMEOUT_S: '60' }),
      pino({ level: 'silent' }),
      { agent: agent === 'naive' ? naiveReceptionistAgent : () => receptionistAgent(), onFrameHandled },
    );

  const level = async (server: Server, url: string, calls: number, scenario: string, drain?: () => Promise<void>): Promise<LevelResult> => {
    frames.reset();
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const summary = await runSimulator(url, calls, durationMs, scenario);
    loop.disable();
    await drain?.();
    return {
      server,
      calls,
      failed: summary.failed,
      frameUs: {
        p50: round(frames.percentile(50) / 1000, 1),
        p99: round(frames.percentile(99) / 1000, 1),
        p999: round(frames.percentile(99.9) / 1000, 1),
      },
      eventLoopDelayP99Ms: round(loop.percentile(99) / 1e6, 2),
      messages: frames.count,
    };
  };

  const concurrency = options.quick ? [10, 50] : [10, 100, 500, 1000];
  const levels: LevelResult[] = [];
  const phases: Partial<CallsBench['phases']> = {};
  const guardModes: CallsBench['guardModes'] = [];

  try {
    for (const agent of ['naive', 'cached'] as const) {
      const server = await start(agent);
      const drain = async (): Promise<void> => {
        await server.media.settled(120_000);
      };
      try {
        await level(agent, server.url, 10, 'mix', drain); // warm-up: connections, JIT
        options.collector.calls = [];
        await level(agent, server.url, 10, 'mix', drain);
        phases[agent] = phaseFigures(options.collector.calls);
        for (const calls of concurrency) levels.push(await level(agent, server.url, calls, 'mix', drain));
        if (agent === 'cached') {
          const modeCalls = options.quick ? 50 : 200;
          for (const mode of ['off', 'report', 'block'] as const) {
            options.guard.setMode(mode);
            guardModes.push({ mode, ...(await level('cached', server.url, modeCalls, 'mix', drain)), p99OverOff: 0 });
          }
          options.guard.setMode('report');
          const off = guardModes[0]!.frameUs.p99;
          for (const result of guardModes) result.p99OverOff = round(result.frameUs.p99 / off, 2);
        }
      } finally {
        await server.close();
      }
    }
    return { durationMs, phases: phases as CallsBench['phases'], levels, guardModes };
  } finally {
    await fs.rm(journalDir, { recursive: true, force: true });
  }
}

async function runSimulator(url: string, calls: number, durationMs: number, scenario: string): Promise<{ failed: number }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'bench/sim-child.ts', url, String(calls), String(durationMs), scenario],
    { maxBuffer: 64 << 20 },
  );
  return JSON.parse(stdout) as { failed: number };
}

function phaseFigures(calls: Attributes[]): PhaseFigures {
  const mean = (key: string): number => round(calls.reduce((sum, a) => sum + Number(a[key] ?? 0), 0) / Math.max(1, calls.length), 2);
  return {
    calls: calls.length,
    queries: { load: mean('call.db.queries.load'), live: mean('call.db.queries.live'), flush: mean('call.db.queries.flush') },
    commits: { load: mean('call.db.commits.load'), live: mean('call.db.commits.live'), flush: mean('call.db.commits.flush') },
    dbTimeMs: {
      load: mean('call.db.time_ms.load'),
      live: mean('call.db.time_ms.live'),
      flush: mean('call.db.time_ms.flush'),
      total: mean('call.db.time_ms'),
    },
  };
}
