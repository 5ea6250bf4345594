// Top self-time entries of a V8 .cpuprofile (Chrome DevTools format, as
// `node --cpu-prof` and the inspector's Profiler.stop write it), summed by
// function + script (+ line), so that one function's many nodes (one per
// calling stack) count as one.
//   node --import tsx bench/capacity/profile-top.ts file.cpuprofile [N]
import fs from 'node:fs';
import path from 'node:path';

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTimeEntry {
  /** Function name, `(garbage collector)`, `(program)`, … */
  name: string;
  /** Script (relative to the repository when inside it, else the package path) and 1-based line. */
  where: string;
  selfMs: number;
  /** Share of the busy time (everything but `(idle)`), %. */
  busyPct: number;
}

export interface SelfTimeSummary {
  /** Sampled wall time (ms). */
  totalMs: number;
  /** Everything but `(idle)` (ms). */
  busyMs: number;
  top: SelfTimeEntry[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const inModules = file.indexOf('/node_modules/');
  if (inModules >= 0) return file.slice(inModules + '/node_modules/'.length);
  return path.isAbsolute(file) ? path.relative(process.cwd(), file) : file;
}

/** Self time by function + script + line, the `limit` largest. */
export function topSelfTime(profile: CpuProfile, limit = 10): SelfTimeSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  // Sample i lasts until the next one: timeDeltas[i + 1] (the last one gets the profile's end).
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i += 1) {
    at += timeDeltas[i] ?? 0;
    const next = i + 1 < samples.length ? (timeDeltas[i + 1] ?? 0) : Math.max(0, profile.endTime - at);
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + next);
  }
  const grouped = new Map<string, { name: string; where: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    totalUs += us;
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}\u0000${where}`;
    const entry = grouped.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    grouped.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  const top = [...grouped.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map(({ name, where, us }) => ({ name, where, selfMs: Math.round(us / 100) / 10, busyPct: Math.round((1000 * us) / Math.max(1, busyUs)) / 10 }));
  return { totalMs: Math.round(totalUs / 1000), busyMs: Math.round(busyUs / 1000), top };
}

export function selfTimeMarkdown(summary: SelfTimeSummary): string[] {
  return [
    `| # | self ms | % of busy | function | where |`,
    '| --- | --- | --- | --- | --- |',
    ...summary.top.map((e, i) => `| ${i + 1} | ${e.selfMs} | ${e.busyPct} | \`${e.name}\` | ${e.where ? `\`${e.where}\`` : ''} |`),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, limit] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-top.ts file.cpuprofile [N]\n');
    process.exit(2);
  }
  const summary = topSelfTime(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, Number(limit ?? 10));
  process.stdout.write(`sampled ${summary.totalMs} ms, busy ${summary.busyMs} ms\n\n${selfTimeMarkdown(summary).join('\n')}\n`);
}
