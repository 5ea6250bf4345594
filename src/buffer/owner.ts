import { isAlive, startTimeOf } from '../process-liveness.js';

/**
 * Which process owns a journal file: its pid and its start time (clock
 * ticks since boot, from /proc/<pid>/stat; 0 where there is no /proc). The
 * start time tells a restarted process that got the same pid (pid 1 in a
 * container, always) from the one that wrote the file.
 */
export interface Owner {
  readonly pid: number;
  readonly startTime: number;
}

/** `<pid>-<startTime>`, as it appears in journal file names. */
export function ownerTag(owner: Owner): string {
  return `${owner.pid}-${owner.startTime}`;
}

let self: Owner | undefined;

/** This process. */
export function currentOwner(): Owner {
  self ??= { pid: process.pid, startTime: startTimeOf(process.pid) ?? 0 };
  return self;
}

/** Whether the process that owns a file still runs (a zombie does not). */
export function isOwnerAlive(owner: Owner): boolean {
  if (owner.pid === process.pid && owner.startTime === currentOwner().startTime) return true;
  if (!isAlive(owner.pid)) return false;
  if (owner.startTime === 0) return true;
  const startTime = startTimeOf(owner.pid);
  return startTime === undefined || startTime === owner.startTime;
}
