import type { Config } from '../config.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { seedDemoData } from '../db/seed.js';
import type { Logger } from '../telemetry/logger.js';
import { createAppServer } from './server.js';

export interface RunningServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly database: Database;
  /** Closes the HTTP server, then the database (embedded server included). Runs once. */
  close(): Promise<void>;
}

/**
 * `live-call-guard serve`: opens the database (embedded unless
 * `DATABASE_URL`), migrates, seeds demo data into an empty database, listens.
 * Whatever fails after the database is open closes it again: no orphaned
 * PostgreSQL.
 */
export async function serve(config: Config, logger: Logger): Promise<RunningServer> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await migrate(database.knex);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    if (await seedDemoData(database.knex)) logger.info('demo data seeded into the empty database');

    const server = createAppServer({ knex: database.knex, logger });
    const address = await server.listen(config.port, config.host);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    logger.info({ url, database: database.description, guard: config.guardMode }, `listening on ${url}`);

    let closing: Promise<void> | undefined;
    return {
      url,
      database,
      close: () =>
        (closing ??= (async () => {
          await server.close();
          await database.close();
        })()),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
