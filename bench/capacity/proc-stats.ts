import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/** CPU time (user + system) of a process, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: the fields after it start past the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
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
  cpuSeconds: number;
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
  let rss = 0;
  for (const member of processTree(pid)) {
    try {
      cpu += cpuSeconds(member);
      rss += rssMb(member);
    } catch {
      // A child that exited between the listing and the read.
    }
  }
  return { at: performance.now(), cpuSeconds: cpu, rssMb: rss, machineBusySeconds: machineBusySeconds() };
}

/** Cores the process used between two samples. */
export function coresBetween(from: ProcSample, to: ProcSample): number {
  return (to.cpuSeconds - from.cpuSeconds) / ((to.at - from.at) / 1000);
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
