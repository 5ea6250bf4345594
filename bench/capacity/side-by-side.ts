// Side by side: the floor, the layer and the receptionist (and, with
// --floor-variants, the floor with one piece of our server added) under the
// same number of calls at the same time, driven by one client whose one
// 20 ms ticker sends every server's calls their frames in the same ticks
// (client.ts, Ticker), their CPU read in the same windows.
// Whatever else the machine does in a window, every server has it too: the
// ratio to the floor is taken window by window and the median reported with
// its quartiles. One window per server apart in time (the ladder, pairs)
// moves by ±15-25% on this shared machine; windows side by side by a few %.
// The calls per server are what the machine holds for all of them at once,
// below the held level: this is the CPU per call figure, not the held one.
//   npm run bench:capacity -- --side-by-side 350 [-- --floor-variants] [-- --steady-s 60]
// (`npm run bench` runs it at 350 calls; `npm run bench -- --quick` at 10, with the variants, as a smoke run.)
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FLOOR_VARIANT_DESCRIPTIONS, FLOOR_VARIANTS, type FloorVariant } from './floor-variants.js';
import { sample, coresBetween, type ProcSample } from './proc-stats.js';
import { describe, LoadClient, median, nodeVersion, round, runLevel, type CapacityLevel, type CapacityOptions } from './run-capacity.js';
import { buildServers, startBare, startOurs, type RunningServer } from './servers.js';

/** A server of the side-by-side run: one of the three, or the floor with a variant. */
export type SideBySideServer = 'bare' | 'layer' | 'receptionist' | `bare+${FloorVariant}`;

export interface SideBySideRow {
  server: SideBySideServer;
  /** Cores used, window by window. */
  cores: number[];
  /** Cores over the floor's in the same window, window by window (windowRatios). */
  ratios: number[];
  ratio: Quartiles;
  /** The level as the client saw it on this server (failed calls, DTMF → answer p99). */
  level: CapacityLevel;
}

export interface Quartiles {
  q1: number;
  median: number;
  q3: number;
}

export interface SideBySideResult {
  calls: number;
  windowMs: number;
  node: { servers: string; client: string };
  loadAverage: { before: number[]; after: number[] };
  /** The floor first. */
  rows: SideBySideRow[];
}

/** The first, middle and third quartiles (nearest rank); throws on no values: a figure from no window is no figure. */
export function quartiles(values: readonly number[]): Quartiles {
  if (values.length === 0) throw new Error('side by side: no window was measured (the steady windows never overlapped)');
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.round(p * (sorted.length - 1))]!;
  return { q1: at(0.25), median: median(sorted), q3: at(0.75) };
}

/**
 * Cores per server in each window between consecutive samples, and each
 * server's cores over the first's (the floor's) in the same window. The one
 * ticker sends every server's calls their frames in the same ticks, so in
 * a window every server is sent the same frames. A window where the floor
 * used no CPU (it cannot, under calls) is left out.
 */
export function windowRatios(samples: readonly ProcSample[][]): { cores: number[][]; ratios: number[][] } {
  const cores: number[][] = samples.map(() => []);
  const ratios: number[][] = samples.map(() => []);
  const windows = Math.min(...samples.map((s) => s.length)) - 1;
  for (let w = 0; w < windows; w += 1) {
    const used = samples.map((s) => coresBetween(s[w]!, s[w + 1]!));
    if (!(used[0]! > 0)) continue;
    used.forEach((c, i) => {
      cores[i]!.push(round(c, 3));
      ratios[i]!.push(round(c / used[0]!, 3));
    });
  }
  return { cores, ratios };
}

export async function benchSideBySide(
  options: CapacityOptions & { calls: number; floorVariants?: boolean; windowMs?: number },
): Promise<SideBySideResult> {
  const { calls, windowMs = 2_000, quick } = options;
  const steadyMs = options.steadyMs ?? (quick ? 10_000 : 60_000);
  if (!Number.isInteger(calls) || calls < 1) throw new TypeError(`calls must be a whole number >= 1; received ${String(calls)}`);
  if (steadyMs < 5 * windowMs) throw new TypeError(`the steady window (${steadyMs} ms) must hold at least 5 windows of ${windowMs} ms`);
  const log = options.log ?? ((line: string) => process.stderr.write(`capacity side by side: ${line}\n`));
  const names: SideBySideServer[] = ['bare', 'layer', 'receptionist', ...(options.floorVariants ? FLOOR_VARIANTS.map((v) => `bare+${v}` as const) : [])];
  await buildServers();
  const client = await LoadClient.start();
  const journalRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-capacity-side-'));
  const servers: RunningServer[] = [];
  try {
    for (const name of names) {
      servers.push(
        name === 'layer' || name === 'receptionist'
          ? await startOurs(name, { databaseUrl: options.databaseUrl, journalDir: path.join(journalRoot, name), ...(options.node ? { node: options.node } : {}) })
          : await startBare(false, options.node, name === 'bare' ? undefined : (name.slice('bare+'.length) as FloorVariant)),
      );
    }
    // Warm: connections, JIT, the pool, the journal directory.
    for (const server of servers) await runLevel(client, server, quick ? 5 : 100, quick ? 1_000 : 3_000, quick);
    const loadBefore = os.loadavg().map((l) => round(l));
    log(`${names.length} servers, ${calls} calls each, windows of ${windowMs / 1000} s over a ${steadyMs / 1000} s steady window`);

    // Every server's level starts at once, from the one client; windows are read while every steady window is open.
    let inSteady = 0;
    let anyEnded = false;
    let allSteady!: () => void;
    const steady = new Promise<void>((resolve) => (allSteady = resolve));
    const levels = servers.map((server) =>
      runLevel(client, server, calls, steadyMs, quick, (edge) => {
        if (edge === 'steady-start' && ++inSteady === servers.length) allSteady();
        if (edge === 'steady-end') anyEnded = true;
      }),
    );
    const samples: ProcSample[][] = servers.map(() => []);
    const levelsDone = Promise.all(levels);
    await Promise.race([steady, levelsDone]);
    while (!anyEnded && inSteady === servers.length) {
      servers.forEach((server, i) => samples[i]!.push(sample(server.child.pid)));
      await new Promise((resolve) => setTimeout(resolve, windowMs));
    }
    const results = await levelsDone;
    for (const level of results) log(describe(level));
    const { cores, ratios } = windowRatios(samples);
    const rows = names.map((server, i) => ({ server, cores: cores[i]!, ratios: ratios[i]!, ratio: quartiles(ratios[i]!), level: results[i]! }));
    return {
      calls,
      windowMs,
      node: { servers: options.node ? nodeVersion(options.node) : process.version, client: process.version },
      loadAverage: { before: loadBefore, after: os.loadavg().map((l) => round(l)) },
      rows,
    };
  } finally {
    await Promise.all(servers.map((s) => s.child.stop()));
    await client.child.stop();
    await fs.rm(journalRoot, { recursive: true, force: true });
  }
}

export function sideBySideMarkdown(result: SideBySideResult): string[] {
  const describeServer = (server: SideBySideServer): string =>
    server.startsWith('bare+') ? `floor + ${server.slice(5)}: ${FLOOR_VARIANT_DESCRIPTIONS[server.slice(5) as FloorVariant]}` : server === 'bare' ? 'floor (bare ws)' : server === 'layer' ? 'layer (marks agent)' : 'receptionist';
  const windows = result.rows[0]!.cores.length;
  return [
    `### Capacity side by side: ${result.rows.length} servers, ${result.calls} calls each at the same time, CPU over the floor's window by window (${windows} windows of ${result.windowMs / 1000} s)`,
    '',
    `Servers on Node ${result.node.servers}, the one client on Node ${result.node.client}. Load average (1/5/15 min) before ${result.loadAverage.before.join(' / ')}, after ${result.loadAverage.after.join(' / ')}.`,
    'Every server has whatever else the machine does in a window; the machine holds all of them at once, so the calls are below the held level and the p99 says little (a CPU per call figure, not a held one).',
    '',
    "| server | CPU over the floor's: q1 | **median** | q3 | cores (median) | failed | without context | DTMF → answer p99 |",
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...result.rows.map(
      (row) =>
        `| ${describeServer(row.server)} | ${row.ratio.q1} | **${row.ratio.median}** | ${row.ratio.q3} | ${median(row.cores)} | ${row.level.failed} | ${row.level.withoutContext} | ${row.level.answerP99Ms} ms |`,
    ),
    '',
  ];
}
