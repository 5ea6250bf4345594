import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import expressWs from 'express-ws';
import type { Knex } from 'knex';
import { PortInUseError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import { healthRoutes } from './health.js';

export interface AppServerOptions {
  knex: Knex;
  logger: Logger;
  /** Largest HTTP body accepted. Default 64 KiB. */
  bodyLimitBytes?: number;
}

export interface AppServer {
  readonly app: expressWs.Application;
  readonly http: http.Server;
  /** Listens; rejects with {@link PortInUseError} when the port is taken. */
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, ends open connections and sockets. Runs once. */
  close(): Promise<void>;
}

/** The reference server: Express + express-ws, health routes. */
export function createAppServer(options: AppServerOptions): AppServer {
  const app = express();
  const server = http.createServer(app);
  const { app: wsApp, getWss } = expressWs(app, server, { wsOptions: { maxPayload: 64 * 1024 } });
  // ws re-emits the HTTP server's errors (EADDRINUSE...) on the WebSocket
  // server; listen() reports them, so this must not throw them again.
  getWss().on('error', () => {});
  wsApp.disable('x-powered-by');
  wsApp.use(express.urlencoded({ extended: false, limit: options.bodyLimitBytes ?? 64 * 1024 }));
  wsApp.use(healthRoutes({ knex: options.knex }));

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
