import { serve } from '../app/serve.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../telemetry/logger.js';
import { activeTelemetry } from '../telemetry/sdk.js';
import type { CliIo } from './main.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs the server until SIGINT or SIGTERM, then stops it cleanly (the
 * embedded PostgreSQL included). A second signal exits at once.
 */
export async function serveCommand(io: CliIo): Promise<number> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const running = await serve(config, logger);
  io.stdout.write(
    `live-call-guard listening on ${running.url}\n` +
      `  database: ${running.database.description}\n` +
      `  try: curl ${running.url}/healthz\n`,
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const name of STOP_SIGNALS) process.once(name, () => resolve(name));
  });
  for (const name of STOP_SIGNALS) process.once(name, () => process.exit(130));
  logger.info({ signal }, 'stopping');
  await running.close();
  await activeTelemetry()?.shutdown();
  logger.info('stopped');
  return 0;
}
