// Capacity measured from outside, as issue #14 asks: our server
// (`live-call-guard serve`, a child process, receptionist agent) and the bare
// ws floor (bench/capacity/bare-floor.ts, a child process) driven by the
// same lean client (bench/capacity/client.ts, a child process) in the same
// run, level by level (interleaved: bare, then ours), both warmed up first.
// Per level: failed calls, DTMF → answering mark p50/p99, server cores
// (/proc utime+stime over the steady window), server RSS, client cores.
// Then a CPU profile of our server's steady window at one level, through the
// inspector, summed by function.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { InspectorProfiler } from './inspector-profiler.js';
import { coresBetween, machineCoresBetween, sample, type ProcSample } from './proc-stats.js';
import { forkTs, spawnNode, type Child } from './processes.js';
import { selfTimeMarkdown, topSelfTime, type SelfTimeSummary } from './profile-top.js';
import type { ClientMessage, LevelReport, LevelRequest } from './protocol.js';

export type CapacityServer = 'bare' | 'ours';

export interface CapacityOptions {
  /** CI: one tiny level, structural checks only. */
  quick: boolean;
  /** The PostgreSQL our server uses (migrated and seeded by the server itself). */
  databaseUrl: string;
  /** Levels (concurrent calls). Default 250, 500, … 2000 (quick: 10). */
  levels?: number[];
  /** The steady window of each level (ms). Default 10 s (quick: 2 s). */
  steadyMs?: number;
  /** Level at which our server is profiled; 0: no profile. Default 500 (quick: 10). */
  profileCalls?: number;
  /** Stop starting new levels past this (ms). Default 15 min. */
  budgetMs?: number;
  /** Our server as `serve --workers N` (CPU and RSS summed over the primary and its workers). Default 1. */
  workers?: number;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

export interface CapacityLevel {
  server: CapacityServer;
  calls: number;
  failed: number;
  failures: Record<string, number>;
  answerP50Ms: number;
  answerP99Ms: number;
  serverCores: number;
  serverRssMb: number;
  clientCores: number;
  clientTickLateP99Ms: number;
  /** Ticks of the client's 20 ms ticker it could not run in time (skipped): the level is not trustworthy when > 0. */
  clientTicksSkipped: number;
  /** Busy cores of the whole machine over the steady window (server + client + PostgreSQL + whatever else runs). */
  machineCores: number;
  held: boolean;
}

export interface CapacityResult {
  criterion: string;
  /** Our server's worker processes (`serve --workers`). */
  workers: number;
  steadyMs: number;
  loadAverage: { before: number[]; after: number[] };
  /** RSS of each server after warm-up, idle (MB). */
  idleRssMb: Record<CapacityServer, number>;
  levels: CapacityLevel[];
  held: { ours: number; bare: number; ratio: number };
  /** At the highest level both held (else the lowest level run): CPU ms per call per second, and RSS per call above idle. */
  perCall: { calls: number; oursCpuMs: number; bareCpuMs: number; cpuRatio: number; oursRssKb: number; bareRssKb: number } | null;
  profile: ({ calls: number; file: string } & SelfTimeSummary) | null;
}

export const HELD_P99_MS = 50;
const CRITERION = `0 failed calls and DTMF → answer p99 < ${HELD_P99_MS} ms`;
/** Calls start at this rate (per second) in every level. */
const RAMP_CALLS_PER_SECOND = 200;

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** The load generator, with one level at a time. */
class LoadClient {
  private onMessage: ((message: ClientMessage) => void) | undefined;

  private constructor(readonly child: Child) {
    child.process.on('message', (message: ClientMessage) => this.onMessage?.(message));
  }

  static async start(): Promise<LoadClient> {
    const child = forkTs('load client', 'bench/capacity/client.ts');
    const client = new LoadClient(child);
    await new Promise<void>((resolve, reject) => {
      client.onMessage = (message) => message.type === 'ready' && resolve();
      child.process.once('exit', (code) => reject(new Error(`load client exited (${code}) before it was ready:\n${child.tail()}`)));
    });
    return client;
  }

  /** Runs a level; `onEdge` is called at the steady window's start and end (sample the server there). */
  run(request: LevelRequest, onEdge: (edge: 'steady-start' | 'steady-end') => void): Promise<LevelReport> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`load client exited (${code}) during a level:\n${this.child.tail()}`));
      this.child.process.once('exit', onExit);
      this.onMessage = (message) => {
        if (message.type === 'steady-start' || message.type === 'steady-end') onEdge(message.type);
        else if (message.type === 'result' || message.type === 'error') {
          this.child.process.off('exit', onExit);
          this.onMessage = undefined;
          if (message.type === 'result') resolve(message);
          else reject(new Error(`load client failed: ${message.message}`));
        }
      };
      this.child.process.send(request);
    });
  }
}

interface RunningServer {
  server: CapacityServer;
  child: Child;
  url: string;
  /** Resolves once the server has finished the last level's calls (ours: sessions closed, journals flushed). */
  quiet(): Promise<void>;
  inspectorUrl?: string;
}

async function startBare(): Promise<RunningServer> {
  const child = spawnNode('bare floor', ['--import', 'tsx', 'bench/capacity/bare-floor.ts'], { ...process.env });
  const [, url] = await child.waitForLine(/^bare-floor listening on (http:\/\/\S+)/);
  return { server: 'bare', child, url: url!, quiet: () => Promise.resolve() };
}

/** `live-call-guard serve` as deployed (built first), its telemetry from a clean environment. */
async function startOurs(databaseUrl: string, journalDir: string, inspect = false, workers = 1): Promise<RunningServer> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OTEL_') && key !== 'LIVE_CALL_TRACE_FILE') env[key] = value;
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    JOURNAL_DIR: journalDir,
    LOG_LEVEL: 'warn',
    DRAIN_TIMEOUT_S: '5',
    // The bench looks for the limit: no admission limit of our own in the way.
    MAX_LIVE_CALLS: '0',
    // As in production: the start message must carry the token of our TwiML.
    CALL_STREAM_SECRET: randomBytes(24).toString('hex'),
  });
  const child = spawnNode(
    'our server',
    [...(inspect ? ['--inspect=127.0.0.1:0'] : []), '--import', 'tsx', 'reference/main.ts', 'serve', ...(workers > 1 ? ['--workers', String(workers)] : [])],
    env,
  );
  const inspector = inspect ? child.waitForLine(/Debugger listening on (ws:\/\/\S+)/) : undefined;
  const [, url] = await child.waitForLine(/^live-call-guard listening on (http:\/\/\S+)$/);
  const quiet = async (): Promise<void> => {
    // Bounded: 30 s of polling /readyz until no session is open and no call's journal awaits its flush
    // (with workers: as many quiet answers in a row as 2x the workers, each on a new connection, round robin).
    let quietInARow = 0;
    for (let i = 0; i < 120; i += 1) {
      const detail = (await readyz(url!)) as { calls?: { sessions: number }; journal?: { openCalls: number } };
      if (detail.calls?.sessions === 0 && detail.journal?.openCalls === 0) {
        if (++quietInARow >= 2 * workers) return;
        continue;
      }
      quietInARow = 0;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error('our server did not finish its calls within 30 s of a level');
  };
  return { server: 'ours', child, url: url!, quiet, ...(inspector ? { inspectorUrl: (await inspector)[1]! } : {}) };
}

/** GET /readyz on a connection of its own (so that each answer may come from another worker). */
function readyz(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/readyz`, { agent: false, headers: { connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body));
          } catch (error) {
            reject(error);
          }
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function build(): Promise<void> {
  // The server runs from dist/: build it from this tree first.
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { maxBuffer: 16 << 20 });
}

export async function benchCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const { quick } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`capacity: ${line}\n`));
  const levels = options.levels ?? (quick ? [10] : [250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
  const steadyMs = options.steadyMs ?? (quick ? 2_000 : 10_000);
  const profileCalls = options.profileCalls ?? (quick ? 10 : 500);
  const budgetMs = options.budgetMs ?? 15 * 60_000;
  const began = performance.now();
  const loadBefore = os.loadavg().map((l) => round(l));

  const request = (url: string, calls: number, runId: string, steady = steadyMs): LevelRequest => ({
    type: 'level',
    url,
    calls,
    rampMs: Math.round((calls / RAMP_CALLS_PER_SECOND) * 1000),
    greetTimeoutMs: 15_000,
    settleMs: quick ? 200 : 1_000,
    steadyMs: steady,
    answerGraceMs: 2_000,
    closeTimeoutMs: 15_000,
    runId,
  });
  let runs = 0;
  /** Call sids unique over the run and over earlier runs on the same database. */
  const runId = (): string => `${Date.now().toString(16)}${(runs++).toString(16).padStart(4, '0')}`;

  await build();
  const journalRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-capacity-'));
  const started: Child[] = [];
  const result: CapacityLevel[] = [];
  try {
    const client = await LoadClient.start();
    started.push(client.child);
    const workers = options.workers ?? 1;
    const servers = [await startBare(), await startOurs(options.databaseUrl, path.join(journalRoot, 'ours'), false, workers)];
    for (const server of servers) started.push(server.child);

    const runLevel = async (server: RunningServer, calls: number, steady = steadyMs, onEdge?: (edge: 'steady-start' | 'steady-end') => void) => {
      let from: ProcSample | undefined;
      let to: ProcSample | undefined;
      const report = await client.run(request(server.url, calls, runId(), steady), (edge) => {
        if (edge === 'steady-start') from = sample(server.child.pid);
        else to = sample(server.child.pid);
        onEdge?.(edge);
      });
      await server.quiet().catch((error: unknown) => {
        throw new Error(`${server.server} did not quiet down after ${calls} calls: ${String(error)}\n${server.child.tail()}`, { cause: error });
      });
      if (!from || !to) throw new Error(`${server.server} at ${calls} calls: no steady window was reported`);
      const level: CapacityLevel = {
        server: server.server,
        calls,
        failed: report.failed,
        failures: report.failures,
        answerP50Ms: report.answerMs.p50,
        answerP99Ms: report.answerMs.p99,
        serverCores: round(coresBetween(from, to), 3),
        serverRssMb: round(to.rssMb, 1),
        clientCores: report.clientCores,
        clientTickLateP99Ms: report.tickLateMs.p99,
        clientTicksSkipped: report.ticksSkipped,
        machineCores: round(machineCoresBetween(from, to), 2),
        held: report.failed === 0 && report.answerMs.count === calls && report.answerMs.p99 < HELD_P99_MS,
      };
      return level;
    };

    // Warm: connections, JIT, the pool, the journal directory.
    for (const server of servers) {
      const warm = await runLevel(server, quick ? 5 : 100, quick ? 1_000 : 3_000);
      log(`${server.server} warm-up: ${warm.calls} calls, ${warm.failed} failed`);
    }
    const idleRssMb = { bare: round(sample(servers[0]!.child.pid).rssMb, 1), ours: round(sample(servers[1]!.child.pid).rssMb, 1) } as Record<CapacityServer, number>;

    const failedAt = new Map<CapacityServer, number>();
    for (const calls of levels) {
      for (const server of servers) {
        if (failedAt.has(server.server)) continue;
        if (performance.now() - began > budgetMs) {
          log(`time budget of ${budgetMs / 1000} s spent: no ${server.server} level at ${calls}`);
          continue;
        }
        let level = await runLevel(server, calls);
        if (!level.held && level.clientTicksSkipped > 0) {
          // The client itself was starved (other load on the machine): the level says little; once more.
          log(`${server.server} ${calls}: not held with ${level.clientTicksSkipped} client ticks skipped; once more`);
          level = await runLevel(server, calls);
        }
        result.push(level);
        log(
          `${server.server} ${calls}: ${level.failed} failed, p99 ${level.answerP99Ms} ms, server ${level.serverCores} cores, ` +
            `${level.serverRssMb} MB, client ${level.clientCores} cores (ticks late p99 ${level.clientTickLateP99Ms} ms, ${level.clientTicksSkipped} skipped), ` +
            `machine ${level.machineCores} cores${level.held ? '' : ' — not held'}` +
            (level.failed > 0 ? ` ${JSON.stringify(level.failures)}` : ''),
        );
        // Full mode stops a server at its first level not held; quick mode runs its level regardless.
        if (!level.held && !quick) failedAt.set(server.server, calls);
      }
      if (failedAt.size === servers.length) break;
    }
    for (const server of servers) {
      await server.child.stop();
      started.splice(started.indexOf(server.child), 1);
    }

    let profile: CapacityResult['profile'] = null;
    if (profileCalls > 0) {
      const ours = await startOurs(options.databaseUrl, path.join(journalRoot, 'profiled'), true);
      started.push(ours.child);
      const profiler = await InspectorProfiler.connect(ours.inspectorUrl!);
      try {
        await runLevel(ours, quick ? 5 : 100, quick ? 1_000 : 3_000);
        let profiling: Promise<unknown> = Promise.resolve();
        let stopped: Promise<Awaited<ReturnType<InspectorProfiler['stop']>>> | undefined;
        const level = await runLevel(ours, profileCalls, steadyMs, (edge) => {
          if (edge === 'steady-start') profiling = profiler.start();
          else stopped = profiling.then(() => profiler.stop());
        });
        const cpuProfile = await stopped!;
        await fs.mkdir('bench/results', { recursive: true });
        const file = `bench/results/capacity-ours-${profileCalls}.cpuprofile`;
        await fs.writeFile(file, JSON.stringify(cpuProfile));
        profile = { calls: profileCalls, file, ...topSelfTime(cpuProfile, 10) };
        log(`profiled ours at ${profileCalls} calls (${level.failed} failed, p99 ${level.answerP99Ms} ms): ${file}`);
      } finally {
        profiler.close();
      }
    }

    const held = (server: CapacityServer): number => {
      let best = 0;
      for (const level of result.filter((l) => l.server === server).sort((a, b) => a.calls - b.calls)) {
        if (!level.held) break;
        best = level.calls;
      }
      return best;
    };
    const heldOurs = held('ours');
    const heldBare = held('bare');
    const both = result.filter((l) => l.server === 'ours' && result.some((b) => b.server === 'bare' && b.calls === l.calls));
    const perCallLevel = both.filter((l) => l.held && l.calls <= heldBare).at(-1) ?? both[0];
    let perCall: CapacityResult['perCall'] = null;
    if (perCallLevel) {
      const ours = perCallLevel;
      const bare = result.find((l) => l.server === 'bare' && l.calls === ours.calls)!;
      const cpuMs = (l: CapacityLevel): number => round((l.serverCores * 1000) / l.calls, 3);
      const rssKb = (l: CapacityLevel): number => round(((l.serverRssMb - idleRssMb[l.server]) * 1024) / l.calls, 1);
      perCall = {
        calls: ours.calls,
        oursCpuMs: cpuMs(ours),
        bareCpuMs: cpuMs(bare),
        cpuRatio: round(cpuMs(ours) / Math.max(1e-9, cpuMs(bare)), 2),
        oursRssKb: rssKb(ours),
        bareRssKb: rssKb(bare),
      };
    }
    return {
      criterion: CRITERION,
      workers,
      steadyMs,
      loadAverage: { before: loadBefore, after: os.loadavg().map((l) => round(l)) },
      idleRssMb,
      levels: result,
      held: { ours: heldOurs, bare: heldBare, ratio: round(heldOurs / Math.max(1, heldBare), 2) },
      perCall,
      profile,
    };
  } finally {
    await Promise.all(started.map((child) => child.stop()));
    await fs.rm(journalRoot, { recursive: true, force: true });
  }
}

/** The capacity table, in the form of issue #14, and what follows from it. */
export function capacityMarkdown(result: CapacityResult): string[] {
  const calls = [...new Set(result.levels.map((l) => l.calls))].sort((a, b) => a - b);
  const cell = (server: CapacityServer, n: number): string => {
    const l = result.levels.find((x) => x.server === server && x.calls === n);
    if (!l) return 'not run';
    const failed = l.failed === 0 ? '0' : `${l.failed} failed`;
    return `${failed}, ${l.answerP99Ms} ms, ${l.serverCores}${l.held ? '' : ' ✗'}${l.clientTicksSkipped > 0 ? ' †' : ''}`;
  };
  const pair = (n: number, figure: (l: CapacityLevel) => number): string =>
    (['bare', 'ours'] as const).map((s) => {
      const l = result.levels.find((x) => x.server === s && x.calls === n);
      return l ? String(figure(l)) : '–';
    }).join(' / ');
  const { held, perCall, loadAverage } = result;
  return [
    `### Capacity: our server vs the bare ws floor (same client, ${result.steadyMs / 1000} s steady window per level)`,
    '',
    `Load average (1/5/15 min) before ${loadAverage.before.join(' / ')}, after ${loadAverage.after.join(' / ')}. Held: ${result.criterion}; ✗ = not held; † = the client missed 20 ms ticks (machine starved: the level says little).`,
    '',
    `| calls | bare: failed, DTMF→answer p99, server cores | ours (receptionist${result.workers > 1 ? `, ${result.workers} workers` : ''}): failed, p99, cores | server RSS MB, bare / ours | client cores, bare / ours run | machine busy cores, bare / ours run |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...calls.map(
      (n) =>
        `| ${n} | ${cell('bare', n)} | ${cell('ours', n)} | ${pair(n, (l) => l.serverRssMb)} | ${pair(n, (l) => l.clientCores)} | ${pair(n, (l) => l.machineCores)} |`,
    ),
    '',
    `Calls held: ours **${held.ours}**, bare ${held.bare}: ratio **${held.ratio}**.`,
    perCall
      ? `At ${perCall.calls} calls: CPU per call ours ${perCall.oursCpuMs} ms/s, bare ${perCall.bareCpuMs} ms/s: ratio **${perCall.cpuRatio}**; ` +
        `RSS per call above idle (${result.idleRssMb.ours} / ${result.idleRssMb.bare} MB) ours ${perCall.oursRssKb} KB, bare ${perCall.bareRssKb} KB.`
      : 'CPU per call: no level run by both.',
    '',
    ...(result.profile
      ? [
          `### Our server's steady window at ${result.profile.calls} calls: top 10 self time (busy ${result.profile.busyMs} of ${result.profile.totalMs} ms sampled; ${result.profile.file})`,
          '',
          ...selfTimeMarkdown(result.profile),
          '',
        ]
      : []),
  ];
}
