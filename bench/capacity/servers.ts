// The servers the capacity bench drives, each a child process: the bare ws
// floor (bench/capacity/bare-floor.ts) and our server (`receptionist serve`)
// with the marks-only agent (the layer row) or the receptionist. Both run as
// JavaScript compiled by tsc (buildServers), as an adopter deploys the layer:
// the same code, without a TypeScript loader's transforms on the hot path.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FloorVariant } from './floor-variants.js';
import { spawnNode, type Child } from './processes.js';

/** Where buildServers puts the compiled servers (bench/capacity/tsconfig.servers.json). */
const BUILD = path.resolve('.data/capacity-build');

/** Compiles the layer, the reference app and the floor into .data/capacity-build (a few seconds). */
export async function buildServers(): Promise<void> {
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'bench/capacity/tsconfig.servers.json'], { maxBuffer: 16 << 20 });
}

/** bare: the ws floor; layer: our server with `--agent marks`; receptionist: our server with the demo receptionist. */
export type CapacityServer = 'bare' | 'layer' | 'receptionist';
export const CAPACITY_SERVERS: readonly CapacityServer[] = ['bare', 'layer', 'receptionist'];

export interface RunningServer {
  server: CapacityServer;
  child: Child;
  url: string;
  /** Resolves once the server has finished the last level's calls (ours: sessions closed, journals flushed). */
  quiet(): Promise<void>;
  /** Ours: calls so far that went on without their context (its load failed or passed its timeout), from /readyz. The floor loads none. */
  callsWithoutContext?(): Promise<number>;
  inspectorUrl?: string;
}

export interface OurServerOptions {
  databaseUrl: string;
  journalDir: string;
  /** Open the inspector (profiles). */
  inspect?: boolean;
  /** `serve --workers N`. Default 1. */
  workers?: number;
  /** MAX_LIVE_CALLS. Default 0: no admission limit in the way of the search for the limit. */
  maxLiveCalls?: number;
  /** The Node binary the server runs on. Default: the bench's own. */
  node?: string;
}

/** The bare floor; with a variant, the floor with that piece of our server added (floor-variants.ts). */
export async function startBare(inspect = false, node?: string, variant?: FloorVariant): Promise<RunningServer> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FLOOR_VARIANT;
  if (variant) env.FLOOR_VARIANT = variant;
  const name = variant ? `bare floor (${variant})` : 'bare floor';
  const child = spawnNode(name, [...(inspect ? ['--inspect=127.0.0.1:0'] : []), path.join(BUILD, 'bench/capacity/bare-floor.js')], env, node);
  const inspector = inspect ? child.waitForLine(/Debugger listening on (ws:\/\/\S+)/) : undefined;
  const [, url] = await child.waitForLine(/^bare-floor listening on (http:\/\/\S+)/);
  return { server: 'bare', child, url: url!, quiet: () => Promise.resolve(), ...(inspector ? { inspectorUrl: (await inspector)[1]! } : {}) };
}

/** Our server as `npm start` runs it (compiled), its telemetry from a clean environment. */
export async function startOurs(server: 'layer' | 'receptionist', options: OurServerOptions): Promise<RunningServer> {
  const { inspect = false, workers = 1 } = options;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OTEL_') && key !== 'LIVE_CALL_TRACE_FILE') env[key] = value;
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl,
    JOURNAL_DIR: options.journalDir,
    LOG_LEVEL: 'warn',
    DRAIN_TIMEOUT_S: '5',
    MAX_LIVE_CALLS: String(options.maxLiveCalls ?? 0),
    // As in production: the start message must carry the token of our TwiML.
    CALL_STREAM_SECRET: randomBytes(24).toString('hex'),
  });
  const agent = server === 'layer' ? 'marks' : 'receptionist';
  const child = spawnNode(
    `our server (${agent})`,
    [
      ...(inspect ? ['--inspect=127.0.0.1:0'] : []),
      path.join(BUILD, 'reference/main.js'),
      'serve',
      '--agent',
      agent,
      ...(workers > 1 ? ['--workers', String(workers)] : []),
    ],
    env,
    options.node,
  );
  const inspector = inspect ? child.waitForLine(/Debugger listening on (ws:\/\/\S+)/) : undefined;
  const [, url] = await child.waitForLine(/^live-call-guard listening on (http:\/\/\S+)$/);
  const quiet = async (): Promise<void> => {
    // Bounded: 30 s of polling /readyz until no session is open and no call's journal awaits its flush
    // (with workers: as many quiet answers in a row as 2x the workers, each on a new connection, round robin).
    let quietInARow = 0;
    for (let i = 0; i < 120; i += 1) {
      const detail = (await readyz(url!)) as { calls?: { sessions: number }; journal?: { openCalls: number } };
      if (detail.calls?.sessions === 0 && detail.journal?.openCalls === 0) {
        if (++quietInARow >= 2 * workers) return;
        continue;
      }
      quietInARow = 0;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`our server (${agent}) did not finish its calls within 30 s of a level`);
  };
  const callsWithoutContext = async (): Promise<number> => {
    const detail = (await readyz(url!)) as { calls?: { problems?: { context_unavailable?: unknown } } };
    const count = detail.calls?.problems?.context_unavailable;
    if (typeof count !== 'number') throw new Error(`our server (${agent}): /readyz has no calls.problems.context_unavailable count`);
    return count;
  };
  return { server, child, url: url!, quiet, callsWithoutContext, ...(inspector ? { inspectorUrl: (await inspector)[1]! } : {}) };
}

/** GET /readyz on a connection of its own (so that each answer may come from another worker). */
function readyz(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/readyz`, { agent: false, headers: { connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body));
          } catch (error) {
            reject(error);
          }
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
