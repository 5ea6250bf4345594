// What a call costs our server, by part, from a V8 CPU profile of a steady
// window: self time summed into the parts of a call's work (socket, ws
// framing, frame validation and dispatch, live scope, agent, outbound audio,
// timers, journal, database, telemetry, GC, …), as µs of CPU per call per
// second and ns per inbound frame (50 a second). Two levels side by side show
// what grows faster than the number of calls.
//   node --import tsx bench/capacity/cost-model.ts a.cpuprofile:250 b.cpuprofile:750
import fs from 'node:fs';
import type { CpuProfile } from './profile-top.js';

export const FRAMES_PER_SECOND = 50;

/** Parts of a call's work, first match wins: [part, test on function name and script URL]. */
const PARTS: ReadonlyArray<readonly [string, (name: string, url: string) => boolean]> = [
  ['GC', (name) => name === '(garbage collector)'],
  ['V8 and native, unattributed: (program)', (name) => name === '(program)'],
  ['the floor\'s handler (parse, decode)', (_n, url) => url.includes('bench/capacity/bare-floor')],
  ['ws framing (receive, send, UTF-8 check)', (_n, url) => /\/ws\/lib\//.test(url)],
  ['frame validation (twilio-messages, zod)', (_n, url) => url.includes('src/twilio/twilio-messages') || /\/zod\//.test(url)],
  ['frame dispatch, JSON.parse (media-session)', (_n, url) => /src\/twilio\/(media-session|media-stream)/.test(url) || url === 'node:buffer'],
  ['outbound audio and marks (audio-chunks)', (_n, url) => url.includes('src/twilio/audio-chunks')],
  ['live scope (OTel context, AsyncLocalStorage, guard)', (_n, url) => /context-async-hooks|node:async_hooks|@opentelemetry\/api\/|src\/guard\//.test(url)],
  ['agent (receptionist, VAD)', (_n, url) => /reference\/(agent|voice-activity|slot-holds|opening-hours)/.test(url)],
  ['journal and flush (src/buffer)', (_n, url) => url.includes('src/buffer/')],
  ['start of call (src/context)', (_n, url) => url.includes('src/context/')],
  ['database client (pg, knex)', (_n, url) => /\/(pg|pg-protocol|pg-pool|knex)\//.test(url)],
  ['telemetry (OTel SDK, instrumentations)', (_n, url) => /@opentelemetry\//.test(url)],
  ['logs (pino)', (_n, url) => /\/pino\//.test(url)],
  ['HTTP and express (webhook, upgrade)', (_n, url) => /\/(express|express-ws|router|body-parser|twilio)\/|node:_http|node:http/.test(url)],
  ['timers', (_n, url) => url.startsWith('node:internal/timers')],
  ['event loop (callbacks, nextTick, microtasks)', (_n, url) => /^node:internal\/(async_hooks|process\/task_queues|process\/promises)/.test(url)],
  ['socket I/O (streams, net, libuv)', (_n, url) => /^node:(internal\/stream|internal\/streams|net|stream|internal\/net)/.test(url)],
  ['other', () => true],
];

export interface CostPart {
  part: string;
  /** CPU µs per live call per second of the window. */
  usPerCallSecond: number;
  /** CPU ns per inbound frame (usPerCallSecond / 50 × 1000). */
  nsPerFrame: number;
}

export interface CostModel {
  calls: number;
  /** The window profiled (ms) and the CPU busy in it (ms). */
  windowMs: number;
  busyMs: number;
  parts: CostPart[];
  /** Sum over the parts. */
  totalUsPerCallSecond: number;
}

/** Self time of a profile, by part, per call and second. */
export function costModel(profile: CpuProfile, calls: number): CostModel {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const partOf = new Map<number, string>();
  const selfUs = new Map<string, number>();
  let windowUs = 0;
  let idleUs = 0;
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i += 1) {
    at += timeDeltas[i] ?? 0;
    const us = i + 1 < samples.length ? (timeDeltas[i + 1] ?? 0) : Math.max(0, profile.endTime - at);
    windowUs += us;
    const id = samples[i]!;
    let part = partOf.get(id);
    if (part === undefined) {
      const { functionName, url } = byId.get(id)!.callFrame;
      part = functionName === '(idle)' ? '(idle)' : PARTS.find(([, test]) => test(functionName, url))![0];
      partOf.set(id, part);
    }
    if (part === '(idle)') idleUs += us;
    else selfUs.set(part, (selfUs.get(part) ?? 0) + us);
  }
  const callSeconds = Math.max(1, calls) * (windowUs / 1e6);
  const parts = PARTS.map(([part]) => {
    const usPerCallSecond = round((selfUs.get(part) ?? 0) / callSeconds, 2);
    return { part, usPerCallSecond, nsPerFrame: round((usPerCallSecond / FRAMES_PER_SECOND) * 1000, 0) };
  }).filter((p) => p.usPerCallSecond > 0);
  return {
    calls,
    windowMs: Math.round(windowUs / 1000),
    busyMs: Math.round((windowUs - idleUs) / 1000),
    parts,
    totalUsPerCallSecond: round(parts.reduce((sum, p) => sum + p.usPerCallSecond, 0), 2),
  };
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Models of the same server at two or more levels, side by side: µs per
 * call-second at each, and the growth from the lowest to the highest level
 * (1.0: grows as the number of calls; above: faster).
 */
export function costModelMarkdown(title: string, models: CostModel[]): string[] {
  const sorted = [...models].sort((a, b) => a.calls - b.calls);
  const names = [...new Set(sorted.flatMap((m) => m.parts.map((p) => p.part)))];
  const at = (model: CostModel, part: string): number => model.parts.find((p) => p.part === part)?.usPerCallSecond ?? 0;
  const growth = (part: string): string => {
    const low = at(sorted[0]!, part);
    const high = at(sorted.at(-1)!, part);
    if (sorted.length < 2 || low === 0) return '–';
    const ratio = high / low;
    return `${ratio.toFixed(2)}${ratio > 1.25 ? ' ▲' : ''}`;
  };
  return [
    `#### ${title}: CPU per call, µs per call-second (ns per frame), by part`,
    '',
    `| part | ${sorted.map((m) => `${m.calls} calls`).join(' | ')} | growth |`,
    `| --- | ${sorted.map(() => '---').join(' | ')} | --- |`,
    ...names
      .sort((a, b) => at(sorted.at(-1)!, b) - at(sorted.at(-1)!, a))
      .map((part) => `| ${part} | ${sorted.map((m) => `${at(m, part)} (${Math.round((at(m, part) / FRAMES_PER_SECOND) * 1000)})`).join(' | ')} | ${growth(part)} |`),
    `| **total** | ${sorted.map((m) => `**${m.totalUsPerCallSecond}**`).join(' | ')} | ${sorted.length > 1 ? (sorted.at(-1)!.totalUsPerCallSecond / sorted[0]!.totalUsPerCallSecond).toFixed(2) : '–'} |`,
    '',
    `Busy / window: ${sorted.map((m) => `${m.calls} calls ${m.busyMs} / ${m.windowMs} ms`).join('; ')}. ▲ = grows faster than the number of calls (more than 1.25× per call).`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const specs = process.argv.slice(2);
  if (specs.length === 0 || specs.some((s) => !/^.+:\d+$/.test(s))) {
    process.stderr.write('usage: cost-model.ts FILE.cpuprofile:CALLS [FILE.cpuprofile:CALLS ...]\n');
    process.exit(2);
  }
  const models = specs.map((spec) => {
    const at = spec.lastIndexOf(':');
    return costModel(JSON.parse(fs.readFileSync(spec.slice(0, at), 'utf8')) as CpuProfile, Number(spec.slice(at + 1)));
  });
  process.stdout.write(`${costModelMarkdown('profiles', models).join('\n')}\n`);
}
