import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import expressWs from 'express-ws';
import type { Knex } from 'knex';
import type { Logger } from '../src/index.js';
import { PortInUseError } from './db/errors.js';
import { healthRoutes, type HealthOptions } from './health.js';
import { serveMetrics } from './metrics-endpoint.js';

type VerifyClient = (info: { req: http.IncomingMessage }, callback: (result: boolean, code?: number, message?: string) => void) => void;

export interface AppServerOptions {
  knex: Knex;
  logger: Logger;
  /** Checks each WebSocket upgrade before it happens (signatures, draining). */
  verifyClient?: VerifyClient;
  /** `/readyz`: draining flag and detail. */
  readiness?: Pick<HealthOptions, 'isDraining' | 'refusal' | 'detail'>;
  /** Mounts the routes (TwiML, the media WebSocket) on the express-ws app. */
  routes?: (app: expressWs.Application) => void;
}

export interface AppServer {
  readonly app: expressWs.Application;
  readonly http: http.Server;
  /** Listens; rejects with {@link PortInUseError} when the port is taken. */
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, ends open connections and sockets. Runs once. */
  close(): Promise<void>;
}

/** Time for a client to send a request's headers (an upgrade's too). */
export const HTTP_HEADERS_TIMEOUT_MS = 5_000;
/** An HTTP connection with no traffic for this long is closed (WebSockets excepted). */
export const HTTP_IDLE_TIMEOUT_MS = 10_000;
/** Time for a whole request (headers and body). Does not apply to an upgraded WebSocket. */
export const HTTP_REQUEST_TIMEOUT_MS = 10_000;

/** The reference server: Express + express-ws, health routes, and the routes given. */
export function createAppServer(options: AppServerOptions): AppServer {
  const app = express();
  const server = http.createServer(
    {
      // A connection that sends no complete request (no upgrade either) is
      // ended in seconds, not the default minute.
      headersTimeout: HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: 5_000,
      // Not connectionsCheckingInterval: below its default it stops the idle
      // timeout below from firing (Node 20), and the idle timeout is what ends
      // a connection that sends nothing.
    },
    app,
  );
  // An idle connection (one that never sends a request, or a finished
  // keep-alive one) is destroyed; ws clears the timeout of an upgraded socket.
  server.timeout = HTTP_IDLE_TIMEOUT_MS;
  const { app: wsApp, getWss } = expressWs(app, server, {
    // Larger frames close the socket with 1009.
    wsOptions: { maxPayload: 64 * 1024, ...(options.verifyClient ? { verifyClient: options.verifyClient } : {}) },
  });
  // ws re-emits the HTTP server's errors on the WebSocket server. Those of
  // listen() (EADDRINUSE...) are listen()'s to report; any later one (an
  // accept that failed: EMFILE...) is logged.
  getWss().on('error', (error: Error) => {
    if (server.listening) options.logger.error({ err: error }, 'the HTTP server failed');
  });
  wsApp.disable('x-powered-by');
  wsApp.use(healthRoutes({ knex: options.knex, ...options.readiness }));
  wsApp.get('/metrics', serveMetrics);
  options.routes?.(wsApp);

  let closing: Promise<void> | undefined;
  return {
    app: wsApp,
    http: server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
          reject(
            error.code === 'EADDRINUSE'
              ? new PortInUseError(`PORT ${port} is already in use on ${host}`, { cause: error })
              : error,
          );
        };
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const socket of getWss().clients) socket.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
