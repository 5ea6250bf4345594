import cluster from 'node:cluster';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { marksAgent } from '../marks-agent.js';
import { naiveReceptionistAgent } from '../naive-agent.js';
import { receptionistAgent } from '../agent.js';
import { installProcessPolicy } from '../process-policy.js';
import { serve, SHUTDOWN_GRACE_MS } from '../serve.js';
import { serveWorkers, WORKER_SHUTDOWN } from '../serve-workers.js';
import { loadConfig, type Config } from '../config.js';
import { realtimeReceptionistAgent } from '../realtime-agent.js';
import { createLogger } from '../../src/index.js';
import { activeTelemetry } from '../../src/sdk/index.js';
import type { CliIo } from './main.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Shuts the telemetry down (its last spans exported); false if that took longer than SHUTDOWN_GRACE_MS. */
function telemetryFlushed(): Promise<boolean> {
  const shutdown = (activeTelemetry()?.shutdown() ?? Promise.resolve()).then(() => true, () => true);
  return Promise.race([shutdown, delay(SHUTDOWN_GRACE_MS, false, { ref: false })]);
}

/**
 * `--agent`: the demo receptionist (cached: one query, one transaction), the
 * naive one (queries as it goes), the voice-AI receptionist on the OpenAI
 * Realtime API (needs OPENAI_API_KEY; without it, the demo receptionist), or
 * the layer alone (marks only: the capacity bench's layer row).
 */
const AGENTS = {
  receptionist: () => receptionistAgent(),
  naive: () => naiveReceptionistAgent,
  marks: () => marksAgent(),
  realtime: (config: Config) =>
    config.openaiApiKey
      ? realtimeReceptionistAgent({ apiKey: config.openaiApiKey, url: config.realtimeUrl, model: config.realtimeModel })
      : receptionistAgent(),
} as const;

/**
 * Runs the server until SIGINT or SIGTERM, then stops it cleanly (the
 * embedded PostgreSQL included). A second signal exits at once.
 */
export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { agent: { type: 'string', default: 'receptionist' }, workers: { type: 'string', default: '1' } },
    strict: true,
  });
  const agent = AGENTS[values.agent as keyof typeof AGENTS];
  if (!agent) {
    io.stderr.write(`live-call-guard serve: --agent must be one of ${Object.keys(AGENTS).join(', ')} (received ${JSON.stringify(values.agent)})\n`);
    return 2;
  }
  const workers = Number(values.workers);
  if (!/^[1-9]\d*$/.test(values.workers ?? '') || workers > 64) {
    io.stderr.write(`live-call-guard serve: --workers must be a whole number from 1 to 64 (received ${JSON.stringify(values.workers)})\n`);
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const drainDeadlineMs = config.drainTimeoutSeconds * 1000 + 3 * SHUTDOWN_GRACE_MS;
  if (workers > 1 && cluster.isPrimary) {
    // The primary: the database once, N workers (this same command without --workers) on its DATABASE_URL.
    const primary = await serveWorkers(config, logger, {
      workers,
      args: ['serve', '--agent', values.agent!],
      stopDeadlineMs: drainDeadlineMs + SHUTDOWN_GRACE_MS,
    });
    io.stdout.write(
      `live-call-guard listening on ${primary.url}\n` +
        `  workers: ${workers}\n` +
        `  database: ${primary.database.description}\n`,
    );
    const stop = await Promise.race([
      new Promise<NodeJS.Signals>((resolve) => {
        for (const name of STOP_SIGNALS) process.once(name, () => resolve(name));
      }),
      primary.failed.then(() => 'failed' as const),
    ]);
    for (const name of STOP_SIGNALS) process.once(name, () => process.exit(130));
    logger.info({ stop }, 'stopping the workers');
    await primary.close();
    logger.info('stopped');
    return stop === 'failed' ? 1 : 0;
  }
  if (values.agent === 'realtime' && !config.openaiApiKey) {
    io.stderr.write('live-call-guard serve: --agent realtime needs OPENAI_API_KEY; serving the DTMF receptionist\n');
  }
  const running = await serve(config, logger, { agent: agent(config) });
  installProcessPolicy({
    logger,
    drainDeadlineMs,
    drain: async () => {
      await running.close();
      await telemetryFlushed();
    },
  });
  // A worker of `--workers`: the primary prints the one banner.
  if (!cluster.isWorker) {
    io.stdout.write(
      `live-call-guard listening on ${running.url}\n` +
        `  database: ${running.database.description}\n` +
        `  place simulated calls: npx live-call-guard simulate --url ${running.url} --calls 5 --scenario mix\n`,
    );
  }

  const signal = await new Promise<NodeJS.Signals | 'primary'>((resolve) => {
    for (const name of STOP_SIGNALS) process.once(name, () => resolve(name));
    // A worker stops when its primary says so (SIGTERM on the primary drains every worker).
    if (cluster.isWorker) process.on('message', (message) => message === WORKER_SHUTDOWN && resolve('primary'));
  });
  for (const name of STOP_SIGNALS) process.once(name, () => process.exit(130));
  logger.info({ signal }, 'stopping');
  await running.close();
  if (!(await telemetryFlushed())) {
    logger.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'telemetry did not flush in time');
  }
  logger.info('stopped');
  // A worker's IPC channel would keep it alive: let go of it.
  if (cluster.isWorker) process.disconnect();
  return 0;
}
