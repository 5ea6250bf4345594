import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** A child process of the bench, with the lines it printed. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves with the first line (stdout or stderr) matching `pattern`; rejects when the process exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The last lines printed (for error messages). */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Every child still running: killed on the way out, whatever happens. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function track(name: string, child: ChildProcess): Child {
  if (child.pid === undefined) throw new Error(`${name}: could not be started`);
  running.add(child);
  const exited = once(child, 'exit').then(([code, signal]) => {
    running.delete(child);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }>();
  const onLine = (line: string): void => {
    lines.push(line);
    if (lines.length > 50) lines.shift();
    for (const waiter of waiters) {
      const match = waiter.pattern.exec(line);
      if (match) {
        waiters.delete(waiter);
        waiter.resolve(match);
      }
    }
  };
  // Always read what it prints: a full pipe would block the child.
  if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
  if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine);
  const tail = (): string => lines.slice(-15).join('\n');
  return {
    name,
    process: child,
    pid: child.pid,
    tail,
    waitForLine: (pattern, timeoutMs = 60_000) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = { pattern, resolve: (_m: RegExpMatchArray) => {} };
      return Promise.race([
        new Promise<RegExpMatchArray>((resolve) => {
          waiter.resolve = resolve;
          waiters.add(waiter);
        }),
        exited.then(({ code, signal }) => {
          throw new Error(`${name} exited (${code ?? signal}) before printing ${pattern}:\n${tail()}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${tail()}`)), timeoutMs);
        }),
      ]).finally(() => {
        clearTimeout(timer);
        waiters.delete(waiter);
      });
    },
    stop: async (graceMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `node [nodeArgs] args`, output piped; `node` is this process's Node unless another binary is given. */
export function spawnNode(name: string, args: string[], env: NodeJS.ProcessEnv, node = process.execPath): Child {
  return track(name, spawn(node, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A TypeScript module forked with an IPC channel (through tsx). */
export function forkTs(name: string, module: string): Child {
  return track(name, fork(module, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }));
}
