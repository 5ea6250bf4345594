// Pairs: one level, window after window on the same servers (floor, layer,
// receptionist, floor, layer, …), each row's CPU per call over the floor's
// in the same pair, N pairs, and the median. The ladder compares one window
// per run, and a window's CPU moves by ±15% on a shared 2-core machine; this
// is the sharper figure at one level, for checking a change.
//   npm run bench:capacity -- --pairs 6 --levels 750 [-- --node /path/to/node]
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, LoadClient, median, nodeVersion, round, runLevel, startServer, type CapacityLevel, type CapacityOptions } from './run-capacity.js';
import { buildServers, CAPACITY_SERVERS, type CapacityServer, type RunningServer } from './servers.js';

export interface PairsResult {
  calls: number;
  steadyMs: number;
  node: { servers: string; client: string };
  /** Each pair: one window per server, in this order. */
  pairs: Array<Record<CapacityServer, CapacityLevel>>;
  /** CPU per call over the floor's in the same pair, pair by pair, and the median. */
  rows: Array<{ server: Exclude<CapacityServer, 'bare'>; ratios: number[]; median: number }>;
}

export async function benchPairs(options: CapacityOptions & { pairs: number; calls: number }): Promise<PairsResult> {
  const { pairs: count, calls } = options;
  if (!Number.isInteger(count) || count < 1) throw new TypeError(`pairs must be a whole number >= 1; received ${String(count)}`);
  const log = options.log ?? ((line: string) => process.stderr.write(`capacity pairs: ${line}\n`));
  const steadyMs = options.steadyMs ?? 10_000;
  await buildServers();
  const journalRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-capacity-pairs-'));
  const client = await LoadClient.start();
  const servers: RunningServer[] = [];
  try {
    for (const server of CAPACITY_SERVERS) servers.push(await startServer(server, options, path.join(journalRoot, server)));
    for (const server of servers) await runLevel(client, server, 100, 3_000, false);
    const pairs: PairsResult['pairs'] = [];
    for (let n = 1; n <= count; n += 1) {
      const pair = {} as Record<CapacityServer, CapacityLevel>;
      for (const server of servers) {
        pair[server.server] = await runLevel(client, server, calls, steadyMs, false);
        log(`pair ${n}: ${describe(pair[server.server])}`);
      }
      pairs.push(pair);
    }
    const rows = (['layer', 'receptionist'] as const).map((server) => {
      const ratios = pairs.map((pair) => round(pair[server].serverCores / Math.max(1e-9, pair.bare.serverCores)));
      return { server, ratios, median: median(ratios) };
    });
    return { calls, steadyMs, node: { servers: options.node ? nodeVersion(options.node) : process.version, client: process.version }, pairs, rows };
  } finally {
    await Promise.all(servers.map((s) => s.child.stop()));
    await client.child.stop();
    await fs.rm(journalRoot, { recursive: true, force: true });
  }
}

export function pairsMarkdown(result: PairsResult): string[] {
  const cores = (level: CapacityLevel): string => `${level.serverCores}${level.held ? '' : ' ✗'}${level.clientTicksSkipped > 0 ? ' †' : ''}`;
  return [
    `### Capacity pairs at ${result.calls} calls: CPU per call over the floor's, window by window (${result.pairs.length} pairs, ${result.steadyMs / 1000} s windows)`,
    '',
    `Servers on Node ${result.node.servers}, the client on Node ${result.node.client}. Cells: server cores (✗ not held, † the client missed ticks).`,
    '',
    '| pair | floor | layer | receptionist | layer / floor | receptionist / floor |',
    '| --- | --- | --- | --- | --- | --- |',
    ...result.pairs.map(
      (pair, i) =>
        `| ${i + 1} | ${cores(pair.bare)} | ${cores(pair.layer)} | ${cores(pair.receptionist)} | ${result.rows[0]!.ratios[i]} | ${result.rows[1]!.ratios[i]} |`,
    ),
    `| **median** | | | | **${result.rows[0]!.median}** | **${result.rows[1]!.median}** |`,
    '',
  ];
}
