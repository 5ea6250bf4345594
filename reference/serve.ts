import { setTimeout as delay } from 'node:timers/promises';
import type { Knex } from 'knex';
import { DEFAULTS, migrateLayer, type Flusher, type Logger } from '../src/index.js';
import { createCallLayer, type CallLayer, type MediaStreamHandler, type MediaStreamLimits } from '../src/twilio/index.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { warmPool } from './db/knex.js';
import { migrate } from './db/migrate.js';
import { seedDemoData } from './db/seed.js';
import { receptionistAgent, type ReceptionistAgent } from './agent.js';
import { receptionistApp } from './app.js';
import { createAppServer } from './http-server.js';
import { twimlRoute } from './twiml-route.js';
import { openJournal } from './open-journal.js';

/**
 * After the drain, how long flushes under way and the database's close may
 * take before the process goes on without them. A stop takes at most
 * DRAIN_TIMEOUT_S + 2 x this (+ the telemetry flush, bounded the same way).
 */
export const SHUTDOWN_GRACE_MS = DEFAULTS.shutdownGraceMs;

export interface ServeOptions {
  /** The voice logic, or a factory given the server's Knex (the naive agent). Default: the demo receptionist. */
  agent?: ReceptionistAgent | ((knex: Knex) => ReceptionistAgent);
  /** Media-stream limits (tests shorten timeouts). Defaults: DEFAULTS. */
  limits?: Partial<MediaStreamLimits>;
  /** Called with the nanoseconds each inbound media-stream message took (benchmarks). */
  onFrameHandled?: (nanoseconds: number) => void;
}

export interface RunningServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly database: Database;
  readonly layer: CallLayer;
  readonly media: MediaStreamHandler;
  readonly flusher: Flusher;
  /**
   * Graceful stop: `/readyz` turns 503 and upgrades are refused at once, live
   * calls get up to DRAIN_TIMEOUT_S to end (then are ended), every buffer is
   * flushed or journaled, then the server and the database close. Runs once.
   */
  close(): Promise<void>;
}

/**
 * `live-call-guard serve`: opens the database (embedded unless
 * `DATABASE_URL`), migrates, seeds demo data into an empty database, recovers
 * journaled writes, listens. Whatever fails after the database is open closes
 * it again: no orphaned PostgreSQL.
 */
export async function serve(config: Config, logger: Logger, options: ServeOptions = {}): Promise<RunningServer> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    // Kept open: a burst of call starts must not wait for new connections.
    pool: { min: config.dbPoolSize, max: config.dbPoolSize },
  });
  let layer: CallLayer | undefined;
  try {
    const applied = [...(await migrateLayer(database.knex)), ...(await migrate(database.knex))];
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    if (await seedDemoData(database.knex)) logger.info('demo data seeded into the empty database');

    layer = createCallLayer({
      knex: database.knex,
      app: receptionistApp,
      agent: typeof options.agent === 'function' ? options.agent(database.knex) : (options.agent ?? receptionistAgent()),
      // A journal that cannot keep writes must not take calls: fail the start with one line.
      journal: await openJournal(config, logger),
      logger,
      streamSecret: config.callStreamSecret,
      twilio: { authToken: config.twilioAuthToken, publicUrl: config.publicUrl },
      limits: { contextLoadTimeoutMs: config.contextLoadTimeoutMs, maxLiveCalls: config.maxLiveCalls, ...options.limits },
      ...(options.onFrameHandled ? { onFrameHandled: options.onFrameHandled } : {}),
    });
    // Warm before the first call: every connection of the pool open.
    await warmPool(database.knex, config.dbPoolSize);
    // Probes the journal (one that cannot keep writes fails the start), recovers, then admits calls.
    await layer.start();

    const own = layer;
    const server = createAppServer({
      knex: database.knex,
      logger,
      verifyClient: own.verifyClient,
      readiness: {
        isDraining: () => own.ready().state !== 'running',
        // Degraded while flushes fail (the database down or read-only): their writes stay journaled meanwhile.
        refusal: () => own.ready().reason ?? (own.flusher.stats().degraded ? 'flushes are failing: writes stay journaled until the database takes them' : undefined),
        detail: () => {
          const { journal, flusher, calls } = own.ready();
          return { journal: { ...flusher, ...journal }, calls };
        },
      },
      routes: (app) => {
        app.use(
          twimlRoute({
            knex: database.knex,
            logger,
            authToken: config.twilioAuthToken,
            publicUrl: config.publicUrl,
            streamSecret: config.callStreamSecret,
            refusal: () => own.handler.admission('twiml'),
            prefetch: (call) => own.handler.prefetch(call),
          }),
        );
        app.ws('/media', own.handler);
      },
    });
    const address = await server.listen(config.port, config.host);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    logger.info({ url, database: database.description, guard: config.guardMode }, `listening on ${url}`);

    let closing: Promise<void> | undefined;
    return {
      url,
      database,
      layer: own,
      media: own.handler,
      flusher: own.flusher,
      close: () =>
        (closing ??= (async () => {
          // Admission closes first; live calls get the drain, then the HTTP server closes.
          await own.drain(config.drainTimeoutSeconds * 1000);
          await server.close();
          // What has not landed by now stays journaled for the next process.
          await own.stop({ graceMs: SHUTDOWN_GRACE_MS });
          const closed = database.close().then(() => true, () => true);
          if (!(await Promise.race([closed, delay(SHUTDOWN_GRACE_MS, false, { ref: false })]))) {
            logger.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'the database did not close in time; exiting without it');
          }
        })()),
    };
  } catch (error) {
    await layer?.stop({ drainMs: 0 });
    await database.close();
    throw error;
  }
}
