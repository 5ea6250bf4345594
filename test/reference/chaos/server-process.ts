import { RECEPTIONIST, spawnNode, type Spawned } from '../../helpers/processes.js';


export interface ServerProcessOptions {
  /** The child's environment on top of ours (PORT, DATABASE_URL, JOURNAL_DIR, ...). */
  env: NodeJS.ProcessEnv;
}

/** An exit of the server that the harness did not cause. */
export interface UnexpectedExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines it printed. */
  readonly tail: string;
}

const LISTENING = /^live-call-guard listening on (http:\/\/\S+)$/;

/**
 * The real server as a child process (`live-call-guard serve`): started,
 * SIGKILLed and restarted on the same JOURNAL_DIR. An exit it did not ask
 * for is recorded as a crash.
 */
export class ServerProcess {
  private current: Spawned | undefined;
  private killedByUs = false;
  private baseUrl = '';
  readonly crashes: UnexpectedExit[] = [];
  starts = 0;

  constructor(private readonly options: ServerProcessOptions) {}

  /** Starts the server; resolves with its URL once it listens (recovery of the journal has run by then). */
  async start(): Promise<string> {
    if (this.alive) throw new Error('ServerProcess.start: already running');
    const args = [...RECEPTIONIST, 'serve'];
    const spawned = spawnNode(args, { ...process.env, LOG_LEVEL: 'warn', ...this.options.env });
    this.current = spawned;
    this.killedByUs = false;
    this.starts += 1;
    void spawned.exited.then(({ code, signal }) => {
      if (this.current === spawned && !this.killedByUs) {
        this.crashes.push({ code, signal, tail: crashTail(spawned.output()) });
      }
    });
    const [, url] = await spawned.waitForLine(LISTENING);
    this.baseUrl = url!;
    return this.baseUrl;
  }

  get url(): string {
    return this.baseUrl;
  }

  /** Whether the process runs now. */
  get alive(): boolean {
    const child = this.current?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Everything the current process printed. */
  output(): string {
    return this.current?.output() ?? '';
  }

  /** SIGKILLs the server (a crash we cause): returns false if it was not running. */
  kill(): boolean {
    if (!this.alive) return false;
    this.killedByUs = true;
    this.current!.child.kill('SIGKILL');
    return true;
  }

  /** Resolves once the current process has exited (and been reaped). */
  async exited(): Promise<void> {
    await this.current?.exited;
  }

  /** Kills the server if it runs and waits for it: for finally blocks. */
  async stop(): Promise<void> {
    this.kill();
    await this.exited();
  }
}

/** The error that ended a process: from the last line naming an error, a few lines on; else the last lines. */
function crashTail(output: string): string {
  const lines = output.trim().split('\n');
  const at = lines.findLastIndex((line) => /^\S*(Error|Exception)\b|^Error:|Unhandled/.test(line.trim()) && !line.trim().startsWith('at '));
  return (at >= 0 ? lines.slice(at, at + 6) : lines.slice(-8)).join('\n');
}
