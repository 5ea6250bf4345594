import { readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat after "pid (comm) ", or undefined without /proc or that process. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Whether a process runs (a zombie does not: pid 1 in a container may reap nothing). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const fields = statFields(pid);
  return fields === undefined ? true /* no /proc (not Linux): trust kill(0) */ : fields[0] !== 'Z';
}

/** A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined. */
export function startTimeOf(pid: number): number | undefined {
  const value = Number(statFields(pid)?.[19]);
  return Number.isSafeInteger(value) ? value : undefined;
}
