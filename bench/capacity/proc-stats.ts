import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/** CPU time of a process (or of one of its threads: `/proc/<pid>/task/<tid>`), user and system, in seconds, from its stat file. */
export function cpuTimes(statDir: string): { user: number; system: number } {
  const stat = readFileSync(`${statDir}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: the fields after it start past the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
  return { user: Number(fields[11]) / USER_HZ, system: Number(fields[12]) / USER_HZ };
}

/** Resident memory of a process (MB), VmRSS from /proc/<pid>/status. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** A process's CPU and memory at one instant. */
export interface ProcSample {
  at: number;
  /** User + system, every thread. */
  cpuSeconds: number;
  /** System (kernel) time alone, every thread. */
  systemSeconds: number;
  /** The main thread's user + system: where JavaScript runs (the rest: GC helpers, libuv's pool, the loader thread). */
  mainThreadSeconds: number;
  rssMb: number;
  machineBusySeconds: number;
}

/** The process and its children (`serve --workers N`: the primary and its workers), from /proc/<pid>/task/<pid>/children. */
export function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // Gone, or no such file: the process alone.
  }
  return [pid, ...children];
}

/** CPU and RSS summed over the process and its direct children (workers). */
export function sample(pid: number): ProcSample {
  let cpu = 0;
  let system = 0;
  let mainThread = 0;
  let rss = 0;
  for (const member of processTree(pid)) {
    try {
      const times = cpuTimes(`/proc/${member}`);
      const main = cpuTimes(`/proc/${member}/task/${member}`);
      cpu += times.user + times.system;
      system += times.system;
      mainThread += main.user + main.system;
      rss += rssMb(member);
    } catch {
      // A child that exited between the listing and the read.
    }
  }
  return { at: performance.now(), cpuSeconds: cpu, systemSeconds: system, mainThreadSeconds: mainThread, rssMb: rss, machineBusySeconds: machineBusySeconds() };
}

/** Cores the process used between two samples: all of it, or one of the sample's CPU figures. */
export function coresBetween(from: ProcSample, to: ProcSample, figure: 'cpuSeconds' | 'systemSeconds' | 'mainThreadSeconds' = 'cpuSeconds'): number {
  return (to[figure] - from[figure]) / ((to.at - from.at) / 1000);
}

/** Cores the whole machine used between two samples. */
export function machineCoresBetween(from: ProcSample, to: ProcSample): number {
  return (to.machineBusySeconds - from.machineBusySeconds) / ((to.at - from.at) / 1000);
}

/** Busy CPU time of the whole machine (seconds, all cores), from /proc/stat: what else runs shows here. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  return (user! + nice! + system! + irq! + softirq! + steal!) / USER_HZ;
}
