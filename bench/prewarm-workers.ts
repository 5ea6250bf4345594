// Webhook to first frame on `serve --workers 2`: the primary hands each new
// connection to a worker, round robin, so a call's stream may land on
// another worker than its webhook (its context then loads at `start`). Which
// one it was is read from the server's own trace file afterwards
// (`call.context.prefetched` on media_stream). Ready: the receptionist's
// first message (its greeting).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { forEachSpan } from '../src/check/check-traces.js';
import { spawnNode } from './capacity/processes.js';
import { median, round } from './measure.js';
import { oneCall, percentile, type CallOutcome } from './prewarm.js';

export interface WorkersLanding {
  readonly landed: 'webhook worker' | 'another worker' | 'unknown';
  readonly calls: number;
  readonly readyBeforeFirstFrameShare: number;
  readonly startToReadyMs: { readonly p50: number; readonly p99: number };
}

export interface PrewarmWorkersResults {
  readonly workers: number;
  readonly calls: number;
  readonly failed: number;
  /** Streams that landed on another worker than their webhook, of the calls. */
  readonly otherWorkerShare: number;
  readonly landings: readonly WorkersLanding[];
}

export async function benchPrewarmWorkers(options: {
  databaseUrl: string;
  calls: number;
  gapMs: readonly [number, number];
  firstFrameMs: number;
  workers?: number;
}): Promise<PrewarmWorkersResults> {
  const workers = options.workers ?? 2;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-bench-prewarm-workers-'));
  const traceFile = path.join(dir, 'trace.jsonl');
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OTEL_')) env[key] = value;
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl,
    JOURNAL_DIR: path.join(dir, 'journal'),
    LOG_LEVEL: 'warn',
    DRAIN_TIMEOUT_S: '5',
    CALL_STREAM_SECRET: randomBytes(24).toString('hex'),
    LIVE_CALL_TRACE_FILE: traceFile,
  });
  const child = spawnNode('prewarm server', ['--import', 'tsx', 'reference/main.ts', 'serve', '--workers', String(workers)], env);
  const outcomes: CallOutcome[] = [];
  try {
    const [, url] = await child.waitForLine(/^live-call-guard listening on (http:\/\/\S+)$/);
    for (let i = 0; i < workers * 2; i++) await oneCall(url!, url!, options.gapMs[0], options.firstFrameMs); // warm-up
    const warm = outcomes.length;
    for (let i = 0; i < options.calls; i++) {
      const gap = options.gapMs[0] + Math.random() * (options.gapMs[1] - options.gapMs[0]);
      outcomes.push(await oneCall(url!, url!, gap, options.firstFrameMs));
    }
    outcomes.splice(0, warm);
  } finally {
    await child.stop();
  }
  const prefetched = new Map<string, boolean>();
  await forEachSpan(
    [traceFile],
    (span) => {
      if (span.name === 'media_stream' && typeof span.attributes['call.sid'] === 'string') {
        prefetched.set(span.attributes['call.sid'], span.attributes['call.context.prefetched'] === true);
      }
    },
    () => undefined,
  );
  await fs.rm(dir, { recursive: true, force: true });
  const ok = outcomes.filter((o) => o.ok);
  const landingOf = (o: CallOutcome): WorkersLanding['landed'] =>
    !prefetched.has(o.callSid) ? 'unknown' : prefetched.get(o.callSid) ? 'webhook worker' : 'another worker';
  const landings = (['webhook worker', 'another worker', 'unknown'] as const).flatMap((landed) => {
    const these = ok.filter((o) => landingOf(o) === landed);
    if (these.length === 0) return [];
    const ready = these.map((o) => o.readyMs).sort((a, b) => a - b);
    return [
      {
        landed,
        calls: these.length,
        readyBeforeFirstFrameShare: round(these.filter((o) => o.readyBeforeFirstFrame).length / these.length, 3),
        startToReadyMs: { p50: round(median(ready), 2), p99: round(percentile(ready, 99), 2) },
      },
    ];
  });
  const other = ok.filter((o) => landingOf(o) === 'another worker').length;
  return { workers, calls: outcomes.length, failed: outcomes.length - ok.length, otherWorkerShare: round(other / Math.max(1, ok.length), 3), landings };
}

export function prewarmWorkersMarkdown(results: PrewarmWorkersResults): string[] {
  return [
    `### The same on \`serve --workers ${results.workers}\` (${results.calls} calls, ${results.failed} failed; ${round(results.otherWorkerShare * 100, 1)}% of streams landed on another worker)`,
    '',
    '| stream landed on | calls | ready before the first frame | start → first message p50 / p99 (ms) |',
    '| --- | --- | --- | --- |',
    ...results.landings.map(
      (l) => `| ${l.landed} | ${l.calls} | ${round(l.readyBeforeFirstFrameShare * 100, 1)}% | ${l.startToReadyMs.p50} / ${l.startToReadyMs.p99} |`,
    ),
    '',
  ];
}
