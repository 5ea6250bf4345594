import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import expressWs from 'express-ws';
import knexFactory, { type Knex } from 'knex';
import { z } from 'zod';
import { createLogger, type Flusher, type JournalBackend, type Logger } from '../../src/index.js';
import { createCallLayer, type CallLayer, type MediaStreamHandler } from '../../src/twilio/index.js';
import { orderLineAgent, type OrderLineAgent } from './agent.js';
import { orderLineApp } from './app.js';
import { migrateOrderLine } from './migrations.js';

export interface OrderLineServerOptions {
  /** The app's PostgreSQL (the layer's one table lives there too). */
  databaseUrl: string;
  /** Directory of the write journal (one file per live call). */
  journalDir: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The origin Twilio reaches (the Stream URL is its `wss://…/media`). Default: the webhook request's Host. */
  publicUrl?: string;
  /** Signs the stream parameters (shop, caller) into a single-use token. Strongly advised. */
  streamSecret?: string;
  /** Checks `X-Twilio-Signature` on `/twiml` and on the `/media` upgrade; needs `publicUrl`. */
  twilioAuthToken?: string;
  /** Default: the layer's pino logger. */
  logger?: Logger;
  /** Default: {@link orderLineAgent}. */
  agent?: OrderLineAgent;
  /** How long `close()` lets live calls finish before hanging up. Default 10 000 ms. */
  drainTimeoutMs?: number;
}

export interface OrderLineServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly knex: Knex;
  readonly layer: CallLayer;
  readonly media: MediaStreamHandler;
  readonly flusher: Flusher;
  readonly journal: JournalBackend;
  /** Drains live calls, lands (or journals) their writes, closes everything. Runs once. */
  close(): Promise<void>;
}

/** Twilio's voice webhook: the shop comes from the webhook URL configured on its number (`/twiml?shop_id=<uuid>`). */
const webhook = z.object({
  shop_id: z.string().uuid(),
  CallSid: z.string().regex(/^CA[0-9A-Za-z]{1,62}$/, 'must be a Twilio call sid'),
  From: z.string().max(64).optional(),
});
const FORM = express.urlencoded({ extended: false, limit: '16kb' });
const PHONE = /^\+?[0-9 ()-]{3,32}$/;

/**
 * The order line's server: express + express-ws, `POST /twiml` answering a
 * Media Stream with the shop and the caller as parameters (no query: the
 * webhook URL names the shop), and `/media` handled by the layer. Migrates
 * (the layer's table and the app's, each with its own migrations table) and
 * recovers journaled writes of an earlier process before it listens.
 */
export async function startOrderLine(options: OrderLineServerOptions): Promise<OrderLineServer> {
  const logger = options.logger ?? createLogger();
  const knex = knexFactory({
    client: 'pg',
    // Without `version`, knex runs `select version()` on the first
    // connection it opens — inside whatever opened it, e.g. a call's one
    // start-of-call statement, which would then be two.
    version: '16',
    connection: { connectionString: options.databaseUrl, application_name: 'order-line' },
    pool: { min: 0, max: 10 },
  });
  let layer: CallLayer | undefined;
  try {
    // Fails closed at construction (e.g. twilioAuthToken without publicUrl).
    layer = createCallLayer({
      knex,
      app: orderLineApp,
      agent: options.agent ?? orderLineAgent(),
      journal: options.journalDir,
      logger,
      streamSecret: options.streamSecret,
      twilio: { authToken: options.twilioAuthToken, publicUrl: options.publicUrl },
    });
    const applied = await migrateOrderLine(knex);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    await layer.start();
  } catch (error) {
    await layer?.stop({ drainMs: 0 });
    await knex.destroy();
    throw error;
  }
  const own = layer;

  const app = express();
  const server = http.createServer(app);
  const { app: wsApp } = expressWs(app, server, { wsOptions: { maxPayload: 64 * 1024, verifyClient: own.verifyClient } });
  wsApp.disable('x-powered-by');
  wsApp.post('/twiml', FORM, (req, res) => {
    const form = Object.fromEntries(Object.entries((req.body ?? {}) as Record<string, unknown>).map(([key, value]) => [key, String(value)]));
    const signed = { url: req.originalUrl, signature: req.headers['x-twilio-signature'], form };
    // The signature before the body is read for meaning (403, then 400).
    if (!own.verifyWebhook(signed)) {
      res.status(403).type('text/plain').send('invalid X-Twilio-Signature');
      return;
    }
    const parsed = webhook.safeParse({ ...form, shop_id: req.query.shop_id });
    if (!parsed.success) {
      res.status(400).type('text/plain').send(`invalid webhook: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);
      return;
    }
    const { shop_id: shopId, CallSid: callSid, From: from } = parsed.data;
    const parameters: Record<string, string> = { shop_id: shopId };
    if (from && PHONE.test(from)) parameters.caller = from;
    // Busy while the layer is not admitting (starting, draining, journal, capacity).
    const answer = own.twiml({ ...signed, callSid, parameters, origin: `${req.protocol}://${req.headers.host ?? 'localhost'}` });
    res.status(answer.status).type(answer.contentType).send(answer.body);
  });
  wsApp.ws('/media', own.handler);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await own.stop({ drainMs: 0 });
    await knex.destroy();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  logger.info({ url }, `order line listening on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    knex,
    layer: own,
    media: own.handler,
    flusher: own.flusher,
    journal: own.journal,
    close: () =>
      (closing ??= (async () => {
        await own.drain(options.drainTimeoutMs ?? 10_000);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await own.stop({ graceMs: 5_000 });
        await knex.destroy();
      })()),
  };
}
