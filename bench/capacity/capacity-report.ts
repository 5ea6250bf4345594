// The capacity bench's figures as Markdown: every run's ladder, the rows
// against the floor run by run with the median, the cost model, and the
// level past MAX_LIVE_CALLS.
import { costModelMarkdown } from './cost-model.js';
import type { CapacityLevel, CapacityResult, CapacityRun, CapacityServer } from './run-capacity.js';

const LABEL: Record<CapacityServer, string> = { bare: 'floor (bare ws)', layer: 'layer (marks agent)', receptionist: 'receptionist' };

function cell(level: CapacityLevel | undefined): string {
  if (!level) return 'not run';
  const failed = (level.failed === 0 ? '0' : `${level.failed} failed`) + (level.withoutContext > 0 ? ` (${level.withoutContext} without context)` : '');
  return `${failed}, ${level.answerP99Ms} ms, ${level.serverCores}${level.held ? '' : ' ✗'}${level.clientTicksSkipped > 0 ? ' †' : ''}`;
}

function runMarkdown(run: CapacityRun, n: number, workers: number): string[] {
  const calls = [...new Set(run.levels.map((l) => l.calls))].sort((a, b) => a - b);
  const servers: CapacityServer[] = ['bare', 'layer', 'receptionist'];
  const find = (server: CapacityServer, at: number): CapacityLevel | undefined => run.levels.find((l) => l.server === server && l.calls === at);
  const triple = (at: number, figure: (l: CapacityLevel) => number): string => servers.map((s) => (find(s, at) ? String(figure(find(s, at)!)) : '–')).join(' / ');
  return [
    `#### Run ${n}: held bare ${run.held.bare}, layer ${run.held.layer}, receptionist ${run.held.receptionist}`,
    '',
    `Load average (1/5/15 min) before ${run.loadAverage.before.join(' / ')}, after ${run.loadAverage.after.join(' / ')}.`,
    '',
    `| calls | ${servers.map((s) => `${LABEL[s]}${s !== 'bare' && workers > 1 ? `, ${workers} workers` : ''}: failed, p99, cores`).join(' | ')} | RSS MB (bare / layer / receptionist) | client cores | machine busy cores |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...calls.map(
      (at) =>
        `| ${at} | ${servers.map((s) => cell(find(s, at))).join(' | ')} | ${triple(at, (l) => l.serverRssMb)} | ${triple(at, (l) => l.clientCores)} | ${triple(at, (l) => l.machineCores)} |`,
    ),
    '',
    ...(run.cpuWindows.length > 0
      ? [`More windows where CPU per call is compared, in the order run (cells as above): ${run.cpuWindows.map((l) => `${LABEL[l.server]} at ${l.calls}: ${cell(l)}`).join('; ')}.`, '']
      : []),
  ];
}

export function capacityMarkdown(result: CapacityResult): string[] {
  const { runs, rows, profiles, overload } = result;
  const lines = [
    `### Capacity: the layer and the receptionist vs the bare ws floor (same client, ${result.steadyMs / 1000} s steady window per level, ${runs.length} run${runs.length === 1 ? '' : 's'})`,
    '',
    `Servers on Node ${result.node.servers}, the client on Node ${result.node.client}.`,
    '',
    `Held: ${result.criterion}; ✗ = not held; † = the client missed 20 ms ticks (it was starved: the level says little, and was run once more). Cells: failed, DTMF→answer p99, server cores.`,
    '',
    ...(result.refine > 0
      ? [`After the ladder, the gap between each server's held level and the lowest it failed was halved up to ${result.refine} time${result.refine === 1 ? '' : 's'} (levels off the ladder's step).`, '']
      : []),
    ...(result.cpuPairs > 0
      ? [
          `CPU per call is compared at the highest level both the server and the floor held, pair of windows by pair: the ladder's, then ${result.cpuPairs} more run after it, the servers taking turns; the run's ratio is their median.`,
          '',
        ]
      : []),
    '| row | held / floor, run by run | **median** | target | CPU per call / floor, run by run (at calls: pair by pair) | **median** | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${LABEL[r.server]} | ${r.heldRatios.join(', ')} | **${r.median.heldRatio}** | ≥ ${r.target.heldRatio} | ` +
        `${r.cpuRatios.map((c) => (c ? `${c.ratio} (${c.calls}: ${c.pairs.join(', ')})` : '–')).join('; ')} | **${r.median.cpuRatio ?? '–'}** | ≤ ${r.target.cpuRatio} | ${r.met ? 'yes' : 'no'} |`,
    ),
    '',
    ...runs.flatMap((run, i) => runMarkdown(run, i + 1, result.workers)),
  ];
  for (const server of ['bare', 'layer', 'receptionist'] as const) {
    const models = profiles.filter((p) => p.server === server).map((p) => p.model);
    if (models.length > 0) lines.push(...costModelMarkdown(LABEL[server], models), '');
  }
  if (profiles.length > 0) lines.push(`Profiles: ${profiles.map((p) => p.file).join(', ')}.`, '');
  if (overload) {
    lines.push(
      `#### Past the limit: the receptionist with MAX_LIVE_CALLS=${overload.maxLiveCalls}, ${overload.calls} calls`,
      '',
      `Answered ${overload.answered} (${overload.withoutContext} of them without their context; DTMF→answer p99 ${overload.answerP99Ms} ms), refused cleanly ${overload.refused} ${JSON.stringify(overload.refusals)}, ` +
        `neither answered nor refused **${overload.unanswered}**.`,
      '',
    );
  }
  return lines;
}
