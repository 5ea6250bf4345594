import type { Knex } from 'knex';
import { DEFAULTS, Flusher, migrateLayer, type JournalBackend, type Logger } from '../src/index.js';
import { mediaStream, twilioUpgradeVerifier, type MediaStreamHandler, type MediaStreamLimits } from '../src/twilio/index.js';
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

/** Whether `promise` settled within `ms` (it is never left unhandled). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, late]);
  clearTimeout(timer);
  return result;
}

export interface ServeOptions {
  /** The voice logic, or a factory given the server's Knex (the naive agent). Default: the demo receptionist. */
  agent?: ReceptionistAgent | ((knex: Knex) => ReceptionistAgent);
  /** Media-stream limits (tests shorten timeouts). Default DEFAULT_LIMITS. */
  limits?: Partial<MediaStreamLimits>;
  /** Called with the nanoseconds each inbound media-stream message took (benchmarks). */
  onFrameHandled?: (nanoseconds: number) => void;
}

export interface RunningServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly database: Database;
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
  let journal: JournalBackend | undefined;
  let flusher: Flusher | undefined;
  try {
    const applied = [...(await migrateLayer(database.knex)), ...(await migrate(database.knex))];
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    if (await seedDemoData(database.knex)) logger.info('demo data seeded into the empty database');

    // A journal that cannot keep writes must not take calls: fail the start with one line.
    journal = await openJournal(config, logger);
    flusher = new Flusher({ knex: database.knex, operations: receptionistApp.writes, journal, logger });
    // Warm before the first call: every connection of the pool open.
    await warmPool(database.knex, config.dbPoolSize);
    const recovery = await flusher.start();
    if (recovery.claimed > 0) logger.info({ recovery }, 'recovered journaled writes of earlier processes');

    let draining = false;
    const media = mediaStream({
      knex: database.knex,
      app: receptionistApp,
      agent: typeof options.agent === 'function' ? options.agent(database.knex) : (options.agent ?? receptionistAgent()),
      flusher,
      journal,
      logger,
      streamSecret: config.callStreamSecret,
      limits: { contextLoadTimeoutMs: config.contextLoadTimeoutMs, maxLiveCalls: config.maxLiveCalls, ...options.limits },
      ...(options.onFrameHandled ? { onFrameHandled: options.onFrameHandled } : {}),
    });
    const server = createAppServer({
      knex: database.knex,
      logger,
      verifyClient: twilioUpgradeVerifier({
        authToken: config.twilioAuthToken,
        publicUrl: config.publicUrl,
        isDraining: () => draining,
        refusal: () => media.admission('upgrade'),
      }),
      readiness: {
        isDraining: () => draining,
        refusal: () => media.refusal(),
        detail: () => ({ journal: { ...flusher!.stats(), ...journal!.health() }, calls: media.stats() }),
      },
      routes: (app) => {
        app.use(
          twimlRoute({
            knex: database.knex,
            logger,
            authToken: config.twilioAuthToken,
            publicUrl: config.publicUrl,
            streamSecret: config.callStreamSecret,
            refusal: () => (draining ? 'the server is draining' : media.admission('twiml')),
          }),
        );
        app.ws('/media', media);
      },
    });
    const address = await server.listen(config.port, config.host);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    logger.info({ url, database: database.description, guard: config.guardMode }, `listening on ${url}`);
    if (!config.twilioAuthToken) {
      logger.warn('UNAUTHENTICATED: TWILIO_AUTH_TOKEN is not set, so /twiml and /media accept unsigned requests');
    }
    if (!config.callStreamSecret) {
      logger.warn('UNAUTHENTICATED: CALL_STREAM_SECRET is not set, so a stream start is not bound to the call our webhook answered');
    }

    let closing: Promise<void> | undefined;
    const ownFlusher = flusher;
    const ownJournal = journal;
    return {
      url,
      database,
      media,
      flusher: ownFlusher,
      close: () =>
        (closing ??= (async () => {
          draining = true;
          logger.info({ live_calls: media.stats().liveCalls, timeout_s: config.drainTimeoutSeconds }, 'draining');
          await media.drain(config.drainTimeoutSeconds * 1000);
          await server.close();
          // What has not landed by now stays journaled for the next process.
          await ownFlusher.stop({ graceMs: SHUTDOWN_GRACE_MS });
          await ownJournal.close();
          if (!(await settlesWithin(database.close(), SHUTDOWN_GRACE_MS))) {
            logger.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'the database did not close in time; exiting without it');
          }
        })()),
    };
  } catch (error) {
    await flusher?.stop();
    await journal?.close();
    await database.close();
    throw error;
  }
}
