import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { seedDemoData } from './db/seed.js';
import { migrateLayer, type Logger } from '../src/index.js';
import { nextRestart, WORKER_RESTART_POLICY, type RestartPolicy } from './worker-restarts.js';

/** The message the primary sends a worker to drain and stop (a signal would count as the worker's first of two). */
export const WORKER_SHUTDOWN = 'live-call-guard:shutdown';

export interface WorkersOptions {
  /** How many server processes. */
  workers: number;
  /** The worker's command-line arguments (its `serve` command without `--workers`). */
  args: string[];
  /** After this long a draining worker is killed (its own drain deadline comes first). */
  stopDeadlineMs: number;
  /** When a worker that died is replaced. Default {@link WORKER_RESTART_POLICY}. */
  restartPolicy?: RestartPolicy;
}

export interface RunningWorkers {
  /** `http://host:port`, the port all workers share. */
  readonly url: string;
  readonly database: Database;
  /** Resolves when no worker is left (they died and the restart budget is spent; the exit code is then 1). */
  readonly failed: Promise<void>;
  /** Drains every worker (each waits for its calls, up to DRAIN_TIMEOUT_S), then closes the database. Runs once. */
  close(): Promise<void>;
}

/**
 * `serve --workers N`: one host, all its cores. node:cluster, because Node
 * 20 has no SO_REUSEPORT (`reusePort` is Node 22.12+): the primary opens
 * the database once (the embedded PostgreSQL, or DATABASE_URL), migrates
 * and seeds it, then forks N workers that each run `serve` on that
 * DATABASE_URL and share the port (the primary hands each new connection to
 * a worker, round robin; a call's frames then go straight to its worker).
 * Each worker journals under its own pid and start time, and recovery only
 * claims files whose owner process is dead: a shared JOURNAL_DIR never
 * replays a live worker's calls. MAX_LIVE_CALLS and DB_POOL_SIZE are per
 * worker. A worker that dies is replaced (its journal is recovered by the
 * others) within a restart budget (see worker-restarts.ts): the first at
 * once, the next ones after a doubling wait; past the budget a dead worker
 * is not replaced, the others go on serving, and the primary stops (exit
 * 1) only when none is left.
 */
export async function serveWorkers(config: Config, logger: Logger, options: WorkersOptions): Promise<RunningWorkers> {
  if (!cluster.isPrimary) throw new Error('serveWorkers runs in the primary process only');
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pool: { min: 0, max: 1 } });
  let stopping = false;
  const workers = new Set<Worker>();
  let resolveFailed!: () => void;
  const failed = new Promise<void>((resolve) => (resolveFailed = resolve));
  try {
    const applied = [...(await migrateLayer(database.knex)), ...(await migrate(database.knex))];
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    if (await seedDemoData(database.knex)) logger.info('demo data seeded into the empty database');

    cluster.setupPrimary({ args: options.args });
    const env = { DATABASE_URL: database.connectionString };
    const policy = options.restartPolicy ?? WORKER_RESTART_POLICY;
    const restarts: number[] = [];
    const pendingForks = new Set<NodeJS.Timeout>();
    const fork = (): Worker => {
      const worker = cluster.fork(env);
      workers.add(worker);
      worker.on('exit', (code, signal) => {
        workers.delete(worker);
        if (stopping) return;
        const now = Date.now();
        const next = nextRestart(restarts, now, policy);
        const fields = { worker_pid: worker.process.pid, code, signal, workers_left: workers.size };
        if (!next) {
          logger.error(
            { ...fields, restarts: policy.maxRestarts, window_s: policy.windowMs / 1000 },
            'a server worker exited; the restart budget is spent: not replaced',
          );
          if (workers.size === 0 && pendingForks.size === 0) resolveFailed();
          return;
        }
        logger.error({ ...fields, replace_in_ms: next.delayMs }, 'a server worker exited; replacing it');
        restarts.push(now);
        const timer = setTimeout(() => {
          pendingForks.delete(timer);
          if (stopping) return;
          const replacement = fork();
          replacement.once('listening', () => logger.info({ worker_pid: replacement.process.pid }, 'a replacement server worker is listening'));
        }, next.delayMs);
        pendingForks.add(timer);
      });
      return worker;
    };
    const listening = Array.from({ length: options.workers }, () => {
      const worker = fork();
      return new Promise<{ address: string; port: number }>((resolve, reject) => {
        worker.once('listening', (address) => resolve({ address: address.address ?? config.host, port: address.port }));
        worker.once('exit', (code) => reject(new Error(`a server worker exited (${code}) before it listened`)));
      });
    });
    const [first] = await Promise.all(listening);
    const host = first!.address.includes(':') ? `[${first!.address}]` : first!.address;
    const url = `http://${host}:${first!.port}`;

    let closing: Promise<void> | undefined;
    return {
      url,
      database,
      failed,
      close: () =>
        (closing ??= (async () => {
          stopping = true;
          for (const timer of pendingForks) clearTimeout(timer);
          await Promise.all(
            [...workers].map(async (worker) => {
              const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
              if (worker.isConnected()) worker.send(WORKER_SHUTDOWN);
              else worker.kill('SIGTERM');
              // A worker's drain is bounded by its own deadline; this one is the backstop.
              const backstop = setTimeout(() => worker.kill('SIGKILL'), options.stopDeadlineMs);
              backstop.unref();
              await exited;
              clearTimeout(backstop);
            }),
          );
          await database.close();
        })()),
    };
  } catch (error) {
    stopping = true;
    for (const worker of workers) worker.kill('SIGKILL');
    await Promise.all([...workers].map((worker) => new Promise((resolve) => worker.once('exit', resolve))));
    await database.close();
    throw error;
  }
}
