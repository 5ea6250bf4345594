// Capacity measured from outside: the bare ws floor, our server with the
// marks-only agent (the layer's own cost: the same work as the floor) and
// our server with the receptionist, each a child process, driven by the same
// lean client (bench/capacity/client.ts, a child process) in the same run,
// level by level, interleaved (bare, layer, receptionist), warmed up first.
// Per level: failed calls, DTMF → answering mark p50/p99, server cores
// (/proc utime+stime over the steady window), server RSS, client cores and
// missed ticks. The whole ladder runs `runs` times (fresh servers each run);
// every run is reported and the median taken. Then CPU profiles at two
// levels, summed into a cost model per call (cost-model.ts), and a level just
// past MAX_LIVE_CALLS: what a caller gets there.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULTS } from '../../src/defaults.js';
import { costModel, type CostModel } from './cost-model.js';
import { InspectorProfiler } from './inspector-profiler.js';
import { coresBetween, machineCoresBetween, sample, type ProcSample } from './proc-stats.js';
import { forkTs, type Child } from './processes.js';
import type { ClientMessage, LevelReport, LevelRequest } from './protocol.js';
import { buildServers, CAPACITY_SERVERS, startBare, startOurs, type CapacityServer, type RunningServer } from './servers.js';

export type { CapacityServer } from './servers.js';

export interface CapacityOptions {
  /** CI: one tiny level, structural checks only. */
  quick: boolean;
  /** The PostgreSQL our server uses (migrated and seeded by the server itself). */
  databaseUrl: string;
  /** Levels (concurrent calls). Default 250, 500, … 2000 (quick: 10). */
  levels?: number[];
  /** The steady window of each level (ms). Default 10 s (quick: 2 s). */
  steadyMs?: number;
  /** Full runs of the ladder. Default 3 (quick: 1). */
  runs?: number;
  /** Levels at which each server is profiled for the cost model; [] for none. Default 250 and 750 (quick: 10). */
  profileLevels?: number[];
  /** The receptionist with this MAX_LIVE_CALLS, at 20% more calls; 0: not run. Default DEFAULTS.maxLiveCalls (quick: 5). */
  overloadLimit?: number;
  /**
   * After the ladder, halvings of the gap between each server's held level
   * and the lowest it failed (refineProbe): with 2, a held level to a
   * quarter of a ladder step. Default 2 (quick: 0).
   */
  refine?: number;
  /**
   * After the ladder (and its refinement), more windows at the level where
   * each of our servers' CPU per call is compared with the floor's, the
   * servers taking turns (floor, layer, receptionist): the ratio is the
   * median of the ladder's pair of windows and these. One window apart in
   * time moves by ±15-25% on a shared machine. Default 2 (quick: 0).
   */
  cpuPairs?: number;
  /** Stop starting new levels past this, per run (ms). Default 15 min. */
  budgetMs?: number;
  /** Our servers as `serve --workers N` (CPU and RSS summed over the primary and its workers). Default 1. */
  workers?: number;
  /** The Node binary all three servers run on (the client stays on the bench's). Default: the bench's own. */
  node?: string;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

export interface CapacityLevel {
  server: CapacityServer;
  calls: number;
  failed: number;
  /** Of the failed: turned away cleanly (busy TwiML, upgrade 503, start 1013). */
  refused: number;
  /** Answered calls that went on without their context (its load failed or passed its timeout at start): degraded, so the level is not held. */
  withoutContext: number;
  failures: Record<string, number>;
  answerP50Ms: number;
  answerP99Ms: number;
  serverCores: number;
  /** Of serverCores: kernel time (sockets, fsync), and the main thread's (JavaScript; the rest is GC helpers, libuv's pool). */
  serverSystemCores: number;
  serverMainThreadCores: number;
  serverRssMb: number;
  clientCores: number;
  clientTickLateP99Ms: number;
  /** Ticks of the client's 20 ms ticker it could not run in time (skipped): the level is not trustworthy when > 0. */
  clientTicksSkipped: number;
  /** Busy cores of the whole machine over the steady window (server + client + PostgreSQL + whatever else runs). */
  machineCores: number;
  held: boolean;
}

/** One full run of the ladder. */
export interface CapacityRun {
  loadAverage: { before: number[]; after: number[] };
  /** RSS of each server after warm-up, idle (MB). */
  idleRssMb: Record<CapacityServer, number>;
  levels: CapacityLevel[];
  /** The highest level held with every lower level held too (0: none). */
  held: Record<CapacityServer, number>;
  /** The windows after the ladder at each compared level (CapacityOptions.cpuPairs), in the order run; not part of the held verdicts. */
  cpuWindows: CapacityLevel[];
}

/** CPU per call over the floor's at one level: each pair of windows there (the ladder's first), and their median. */
export interface CpuRatio {
  calls: number;
  pairs: number[];
  ratio: number;
}

/** A row against the floor, run by run, and the median. */
export interface CapacityRow {
  server: Exclude<CapacityServer, 'bare'>;
  /** Held calls / the floor's held calls, per run. */
  heldRatios: number[];
  /** CPU per call / the floor's, per run, at the highest level both held (null: none): the median of its pairs of windows. */
  cpuRatios: Array<CpuRatio | null>;
  median: { heldRatio: number; cpuRatio: number | null };
  target: { heldRatio: number; cpuRatio: number };
  met: boolean;
}

export interface CapacityProfile {
  server: CapacityServer;
  calls: number;
  file: string;
  model: CostModel;
}

export interface OverloadResult {
  maxLiveCalls: number;
  calls: number;
  answered: number;
  /** Of the answered: went on without their context (its load failed or passed its timeout). */
  withoutContext: number;
  refused: number;
  /** Failures other than a clean refusal: never greeted, never answered, closed abnormally. */
  unanswered: number;
  refusals: Record<string, number>;
  answerP99Ms: number;
}

export interface CapacityResult {
  criterion: string;
  /** The Node version the servers ran on, and the client's. */
  node: { servers: string; client: string };
  workers: number;
  steadyMs: number;
  /** Halvings of the gap above each held level after the ladder (CapacityOptions.refine). */
  refine: number;
  /** Pairs of windows after the ladder at each compared level (CapacityOptions.cpuPairs). */
  cpuPairs: number;
  runs: CapacityRun[];
  rows: CapacityRow[];
  profiles: CapacityProfile[];
  overload: OverloadResult | null;
}

export const HELD_P99_MS = 50;
const CRITERION = `0 failed calls, none without its context, and DTMF → answer p99 < ${HELD_P99_MS} ms`;
/** Calls start at this rate (per second) in every level. */
const RAMP_CALLS_PER_SECOND = 200;
/** Issue #20's targets against the floor: held calls at least, CPU per call at most. */
export const TARGETS: Record<CapacityRow['server'], CapacityRow['target']> = {
  layer: { heldRatio: 0.9, cpuRatio: 1.15 },
  receptionist: { heldRatio: 0.8, cpuRatio: 1.25 },
};
/** A failure reason of the client that is a clean refusal. */
export const isRefusal = (reason: string): boolean => reason.startsWith('refused');

export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : round((sorted[mid - 1]! + sorted[mid]!) / 2, 3);
}

/** The load generator: a level at a time, or several at once (side by side), each told apart by its runId. */
export class LoadClient {
  private ready: (() => void) | undefined;
  private readonly levels = new Map<string, { onEdge: (edge: 'steady-start' | 'steady-end') => void; settle: (message: LevelReport | Error) => void }>();

  private constructor(readonly child: Child) {
    child.process.on('message', (message: ClientMessage) => {
      if (message.type === 'ready') return this.ready?.();
      const level = this.levels.get(message.runId);
      if (!level) return;
      if (message.type === 'result') level.settle(message);
      else if (message.type === 'error') level.settle(new Error(`load client failed: ${message.message}`));
      else level.onEdge(message.type);
    });
    child.process.once('exit', (code) => {
      for (const level of this.levels.values()) level.settle(new Error(`load client exited (${code}) during a level:\n${child.tail()}`));
    });
  }

  static async start(): Promise<LoadClient> {
    const child = forkTs('load client', 'bench/capacity/client.ts');
    const client = new LoadClient(child);
    await new Promise<void>((resolve, reject) => {
      client.ready = resolve;
      child.process.once('exit', (code) => reject(new Error(`load client exited (${code}) before it was ready:\n${child.tail()}`)));
    });
    return client;
  }

  /** Runs a level; `onEdge` is called at the steady window's start and end (sample the server there). */
  run(request: LevelRequest, onEdge: (edge: 'steady-start' | 'steady-end') => void): Promise<LevelReport> {
    if (this.levels.has(request.runId)) return Promise.reject(new Error(`load client: a level with runId ${request.runId} is already running`));
    return new Promise((resolve, reject) => {
      this.levels.set(request.runId, {
        onEdge,
        settle: (outcome) => {
          this.levels.delete(request.runId);
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        },
      });
      this.child.process.send(request);
    });
  }
}

/** Calls and the steady window of one level, as the client runs it. */
function levelRequest(url: string, calls: number, runId: string, steadyMs: number, quick: boolean): LevelRequest {
  return {
    type: 'level',
    url,
    calls,
    rampMs: Math.round((calls / RAMP_CALLS_PER_SECOND) * 1000),
    greetTimeoutMs: 15_000,
    settleMs: quick ? 200 : 1_000,
    steadyMs,
    answerGraceMs: 2_000,
    closeTimeoutMs: 15_000,
    runId,
  };
}

let levelsRun = 0;
/** Call sids unique over the run and over earlier runs on the same database. */
const nextRunId = (): string => `${Date.now().toString(16)}${(levelsRun++).toString(16).padStart(4, '0')}`;

/** One level against one server; `onEdge` at the steady window's start and end. */
export async function runLevel(
  client: LoadClient,
  server: RunningServer,
  calls: number,
  steadyMs: number,
  quick: boolean,
  onEdge?: (edge: 'steady-start' | 'steady-end') => void,
): Promise<CapacityLevel> {
  let from: ProcSample | undefined;
  let to: ProcSample | undefined;
  const withoutContextBefore = await server.callsWithoutContext?.();
  const report = await client.run(levelRequest(server.url, calls, nextRunId(), steadyMs, quick), (edge) => {
    if (edge === 'steady-start') from = sample(server.child.pid);
    else to = sample(server.child.pid);
    onEdge?.(edge);
  });
  await server.quiet().catch((error: unknown) => {
    throw new Error(`${server.server} did not quiet down after ${calls} calls: ${String(error)}\n${server.child.tail()}`, { cause: error });
  });
  if (!from || !to) throw new Error(`${server.server} at ${calls} calls: no steady window was reported`);
  const withoutContext = withoutContextBefore === undefined ? 0 : (await server.callsWithoutContext!()) - withoutContextBefore;
  const refused = Object.entries(report.failures).reduce((n, [reason, count]) => n + (isRefusal(reason) ? count : 0), 0);
  return {
    server: server.server,
    calls,
    failed: report.failed,
    refused,
    withoutContext,
    failures: report.failures,
    answerP50Ms: report.answerMs.p50,
    answerP99Ms: report.answerMs.p99,
    serverCores: round(coresBetween(from, to), 3),
    serverSystemCores: round(coresBetween(from, to, 'systemSeconds'), 3),
    serverMainThreadCores: round(coresBetween(from, to, 'mainThreadSeconds'), 3),
    serverRssMb: round(to.rssMb, 1),
    clientCores: report.clientCores,
    clientTickLateP99Ms: report.tickLateMs.p99,
    clientTicksSkipped: report.ticksSkipped,
    machineCores: round(machineCoresBetween(from, to), 2),
    held: report.failed === 0 && withoutContext === 0 && report.answerMs.count === calls && report.answerMs.p99 < HELD_P99_MS,
  };
}

export function describe(level: CapacityLevel): string {
  return (
    `${level.server} ${level.calls}: ${level.failed} failed${level.withoutContext > 0 ? `, ${level.withoutContext} without context` : ''}, p99 ${level.answerP99Ms} ms, server ${level.serverCores} cores (kernel ${level.serverSystemCores}, main thread ${level.serverMainThreadCores}), ` +
    `${level.serverRssMb} MB, client ${level.clientCores} cores (ticks late p99 ${level.clientTickLateP99Ms} ms, ${level.clientTicksSkipped} skipped), ` +
    `machine ${level.machineCores} cores${level.held ? '' : ' — not held'}` +
    (level.failed > 0 ? ` ${JSON.stringify(level.failures)}` : '')
  );
}

export async function startServer(server: CapacityServer, options: CapacityOptions, journalDir: string, extra: { inspect?: boolean; maxLiveCalls?: number } = {}): Promise<RunningServer> {
  if (server === 'bare') return startBare(extra.inspect, options.node);
  return startOurs(server, { databaseUrl: options.databaseUrl, journalDir, workers: options.workers ?? 1, ...(options.node ? { node: options.node } : {}), ...extra });
}

/** One full run of the ladder on fresh servers: each level on each server, until each stops holding. */
async function runLadder(client: LoadClient, options: CapacityOptions, journalRoot: string, runNumber: number): Promise<CapacityRun> {
  const { quick } = options;
  const log = options.log!;
  const levels = options.levels ?? (quick ? [10] : [250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
  const steadyMs = options.steadyMs ?? (quick ? 2_000 : 10_000);
  const budgetMs = options.budgetMs ?? 15 * 60_000;
  const refine = options.refine ?? (quick ? 0 : 2);
  const cpuPairs = options.cpuPairs ?? (quick ? 0 : 2);
  const began = performance.now();
  const loadBefore = os.loadavg().map((l) => round(l));
  const servers: RunningServer[] = [];
  try {
    for (const server of CAPACITY_SERVERS) servers.push(await startServer(server, options, path.join(journalRoot, `run${runNumber}-${server}`)));
    // Warm: connections, JIT, the pool, the journal directory.
    for (const server of servers) {
      const warm = await runLevel(client, server, quick ? 5 : 100, quick ? 1_000 : 3_000, quick);
      log(`run ${runNumber}: ${server.server} warm-up: ${warm.calls} calls, ${warm.failed} failed`);
    }
    const idleRssMb = Object.fromEntries(servers.map((s) => [s.server, round(sample(s.child.pid).rssMb, 1)])) as Record<CapacityServer, number>;
    const result: CapacityLevel[] = [];
    /** One level on one server, recorded; once more when it was not held while the client itself was starved. */
    const measure = async (server: RunningServer, calls: number): Promise<CapacityLevel> => {
      let level = await runLevel(client, server, calls, steadyMs, quick);
      if (!level.held && level.clientTicksSkipped > 0) {
        // The client itself was starved (other load on the machine): the level says little; once more.
        log(`run ${runNumber}: ${describe(level)}; the client was starved: once more`);
        level = await runLevel(client, server, calls, steadyMs, quick);
      }
      result.push(level);
      log(`run ${runNumber}: ${describe(level)}`);
      return level;
    };
    const failedAt = new Set<CapacityServer>();
    for (const calls of levels) {
      for (const server of servers) {
        if (failedAt.has(server.server)) continue;
        if (performance.now() - began > budgetMs) {
          log(`run ${runNumber}: time budget of ${budgetMs / 1000} s spent: no ${server.server} level at ${calls}`);
          failedAt.add(server.server);
          continue;
        }
        const level = await measure(server, calls);
        // Full mode stops a server at its first level not held; quick mode runs its level regardless.
        if (!level.held && !quick) failedAt.add(server.server);
      }
      if (failedAt.size === servers.length) break;
    }
    // The ladder's step alone cannot tell 0.9 of the floor from 0.75: between each server's held level
    // and the lowest it failed, the gap is halved `refine` times, the servers taking turns as on the ladder.
    for (let halving = 0; halving < refine && performance.now() - began <= budgetMs; halving += 1) {
      for (const server of servers) {
        const probe = refineProbe(result, server.server);
        if (probe !== undefined) await measure(server, probe);
      }
    }
    const held = Object.fromEntries(CAPACITY_SERVERS.map((server) => [server, heldLevel(result, server)])) as Record<CapacityServer, number>;
    // More pairs of windows where CPU per call is compared: the floor, then each of ours compared at that level.
    const cpuWindows: CapacityLevel[] = [];
    const compared = new Map<number, RunningServer[]>();
    for (const server of servers) {
      if (server.server === 'bare') continue;
      const at = comparedLevel(result, held, server.server);
      if (at !== undefined) compared.set(at, [...(compared.get(at) ?? [servers.find((s) => s.server === 'bare')!]), server]);
    }
    for (const [calls, turn] of compared) {
      for (let pair = 0; pair < cpuPairs && performance.now() - began <= budgetMs; pair += 1) {
        for (const server of turn) {
          const level = await runLevel(client, server, calls, steadyMs, quick);
          cpuWindows.push(level);
          log(`run ${runNumber}: CPU pair ${pair + 2}: ${describe(level)}`);
        }
      }
    }
    return { loadAverage: { before: loadBefore, after: os.loadavg().map((l) => round(l)) }, idleRssMb, levels: result, held, cpuWindows };
  } finally {
    await Promise.all(servers.map((s) => s.child.stop()));
  }
}

/**
 * The level halfway between a server's held level and the lowest level above
 * it that it failed; undefined when there is no gap to halve: nothing held,
 * nothing failed above it, or a gap under 2% of the held level.
 */
export function refineProbe(levels: readonly CapacityLevel[], server: CapacityServer): number | undefined {
  const held = heldLevel(levels, server);
  if (held === 0) return undefined;
  const failed = levels.filter((l) => l.server === server && !l.held && l.calls > held).map((l) => l.calls);
  if (failed.length === 0) return undefined;
  const probe = Math.round((held + Math.min(...failed)) / 2);
  return probe - held >= Math.max(1, held * 0.02) ? probe : undefined;
}

/** The highest level held with every lower level held too. */
export function heldLevel(levels: readonly CapacityLevel[], server: CapacityServer): number {
  let best = 0;
  for (const level of levels.filter((l) => l.server === server).sort((a, b) => a.calls - b.calls)) {
    if (!level.held) break;
    best = level.calls;
  }
  return best;
}

/**
 * The level at which `server`'s CPU per call is compared with the floor's:
 * the highest it held that the floor ran and held too, else the lowest both
 * ran; undefined when they ran none in common.
 */
export function comparedLevel(levels: readonly CapacityLevel[], held: Record<CapacityServer, number>, server: CapacityServer): number | undefined {
  const both = levels.filter((l) => l.server === server && levels.some((b) => b.server === 'bare' && b.calls === l.calls));
  const heldByBoth = both.filter((l) => l.held && l.calls <= held.bare && l.calls <= held[server]).map((l) => l.calls);
  if (heldByBoth.length > 0) return Math.max(...heldByBoth);
  return both.length > 0 ? Math.min(...both.map((l) => l.calls)) : undefined;
}

/** CPU per call of `server` over the floor's at the compared level: window by window, the ladder's then the run's CPU windows, and the median. */
export function cpuRatio(run: Pick<CapacityRun, 'levels' | 'held' | 'cpuWindows'>, server: CapacityServer): CpuRatio | null {
  const calls = comparedLevel(run.levels, run.held, server);
  if (calls === undefined) return null;
  const windows = (of: CapacityServer): CapacityLevel[] => [...run.levels, ...run.cpuWindows].filter((l) => l.server === of && l.calls === calls);
  const floor = windows('bare');
  const pairs = windows(server)
    .slice(0, floor.length)
    .map((level, i) => round(level.serverCores / Math.max(1e-9, floor[i]!.serverCores), 2));
  return { calls, pairs, ratio: median(pairs) };
}

function row(runs: CapacityRun[], server: CapacityRow['server']): CapacityRow {
  const heldRatios = runs.map((run) => round(run.held[server] / Math.max(1, run.held.bare), 2));
  const cpuRatios = runs.map((run) => cpuRatio(run, server));
  const cpus = cpuRatios.flatMap((c) => (c ? [c.ratio] : []));
  const heldRatio = median(heldRatios);
  const cpu = cpus.length > 0 ? median(cpus) : null;
  const target = TARGETS[server];
  return { server, heldRatios, cpuRatios, median: { heldRatio, cpuRatio: cpu }, target, met: heldRatio >= target.heldRatio && cpu !== null && cpu <= target.cpuRatio };
}

/** Each server profiled over a level's steady window, at each level of `levels`. */
async function profileServers(client: LoadClient, options: CapacityOptions, journalRoot: string, levels: number[]): Promise<CapacityProfile[]> {
  const { quick } = options;
  const steadyMs = options.steadyMs ?? (quick ? 2_000 : 10_000);
  const profiles: CapacityProfile[] = [];
  await fs.mkdir('bench/results/profiles', { recursive: true });
  for (const server of CAPACITY_SERVERS) {
    const running = await startServer(server, options, path.join(journalRoot, `profiled-${server}`), { inspect: true });
    const profiler = await InspectorProfiler.connect(running.inspectorUrl!);
    try {
      await runLevel(client, running, quick ? 5 : 100, quick ? 1_000 : 3_000, quick);
      for (const calls of levels) {
        let profiling: Promise<unknown> = Promise.resolve();
        let stopped: Promise<Awaited<ReturnType<InspectorProfiler['stop']>>> | undefined;
        const level = await runLevel(client, running, calls, steadyMs, quick, (edge) => {
          if (edge === 'steady-start') profiling = profiler.start();
          else stopped = profiling.then(() => profiler.stop());
        });
        const cpuProfile = await stopped!;
        const file = `bench/results/profiles/capacity-${server}-${calls}.cpuprofile`;
        await fs.writeFile(file, JSON.stringify(cpuProfile));
        profiles.push({ server, calls, file, model: costModel(cpuProfile, calls) });
        options.log!(`profiled ${server} at ${calls} calls (${level.failed} failed, p99 ${level.answerP99Ms} ms): ${file}`);
      }
    } finally {
      profiler.close();
      await running.child.stop();
    }
  }
  return profiles;
}

/** The receptionist with MAX_LIVE_CALLS = limit, at 20% more calls: who is answered, who refused, who neither. */
async function overload(client: LoadClient, options: CapacityOptions, journalRoot: string, limit: number): Promise<OverloadResult> {
  const { quick } = options;
  const calls = Math.max(limit + 1, Math.round(limit * 1.2));
  const running = await startServer('receptionist', options, path.join(journalRoot, 'overload'), { maxLiveCalls: limit });
  try {
    await runLevel(client, running, Math.min(limit, quick ? 5 : 100), quick ? 1_000 : 3_000, quick);
    const level = await runLevel(client, running, calls, options.steadyMs ?? (quick ? 2_000 : 10_000), quick);
    const refusals = Object.fromEntries(Object.entries(level.failures).filter(([reason]) => isRefusal(reason)));
    const result = {
      maxLiveCalls: limit,
      calls,
      answered: calls - level.failed,
      withoutContext: level.withoutContext,
      refused: level.refused,
      unanswered: level.failed - level.refused,
      refusals,
      answerP99Ms: level.answerP99Ms,
    };
    options.log!(`past the limit: ${describe(level)}`);
    return result;
  } finally {
    await running.child.stop();
  }
}

/** `node --version` of a Node binary; throws naming the binary when it does not run. */
export function nodeVersion(node: string): string {
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (error) {
    throw new Error(`${node} is not a Node binary that runs here: ${(error as Error).message}`, { cause: error });
  }
}

export async function benchCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const { quick } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`capacity: ${line}\n`));
  const opts: CapacityOptions = { ...options, log };
  const runCount = options.runs ?? (quick ? 1 : 3);
  if (!Number.isInteger(runCount) || runCount < 1) throw new TypeError(`runs must be a whole number >= 1; received ${String(options.runs)}`);
  const profileLevels = options.profileLevels ?? (quick ? [10] : [250, 750]);
  const overloadLimit = options.overloadLimit ?? (quick ? 5 : DEFAULTS.maxLiveCalls);
  await buildServers();
  const journalRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-capacity-'));
  const client = await LoadClient.start();
  try {
    const runs: CapacityRun[] = [];
    for (let n = 1; n <= runCount; n += 1) {
      const run = await runLadder(client, opts, journalRoot, n);
      runs.push(run);
      log(`run ${n}: held bare ${run.held.bare}, layer ${run.held.layer}, receptionist ${run.held.receptionist}`);
    }
    const profiles = profileLevels.length > 0 ? await profileServers(client, opts, journalRoot, profileLevels) : [];
    const overloaded = overloadLimit > 0 ? await overload(client, opts, journalRoot, overloadLimit) : null;
    return {
      criterion: CRITERION,
      node: { servers: options.node ? nodeVersion(options.node) : process.version, client: process.version },
      workers: options.workers ?? 1,
      steadyMs: options.steadyMs ?? (quick ? 2_000 : 10_000),
      refine: options.refine ?? (quick ? 0 : 2),
      cpuPairs: options.cpuPairs ?? (quick ? 0 : 2),
      runs,
      rows: [row(runs, 'layer'), row(runs, 'receptionist')],
      profiles,
      overload: overloaded,
    };
  } finally {
    await client.child.stop();
    await fs.rm(journalRoot, { recursive: true, force: true });
  }
}
