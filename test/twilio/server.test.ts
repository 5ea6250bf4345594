import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServer, type AppServer } from '../../reference/http-server.js';
import { createKnex } from '../../reference/db/knex.js';
import { PortInUseError } from '../../reference/db/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const logger = pino({ level: 'silent' });

describe('app server health routes', () => {
  let db: TestDatabase;
  let server: AppServer;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = createAppServer({ knex: db.knex, logger });
    const { port } = await server.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.close();
    await db.drop();
  });

  it('answers /healthz with 200', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 when the database answers', async () => {
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', database: 'ok' });
  });

  it('answers /readyz with 503 and the reason when the database refuses connections', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const deadKnex = createKnex(`postgres://nobody@127.0.0.1:${closedPort}/none`);
    const unready = createAppServer({ knex: deadKnex, logger });
    try {
      const { port } = await unready.listen(0, '127.0.0.1');
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: 'unavailable', database: 'ECONNREFUSED' });
    } finally {
      await unready.close();
      await deadKnex.destroy();
    }
  });

  it('rejects a port in use with PortInUseError naming the port', async () => {
    const { port } = server.http.address() as net.AddressInfo;
    const second = createAppServer({ knex: db.knex, logger });
    const error = await second.listen(port, '127.0.0.1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as Error).message).toBe(`PORT ${port} is already in use on 127.0.0.1`);
    await second.close();
  });

  it('an error of the listening server (re-emitted by the WebSocket server) is logged, not swallowed', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logged = createAppServer({ knex: db.knex, logger: pino({ level: 'info' }, destination) });
    const { port } = server.http.address() as net.AddressInfo;
    try {
      // A port in use is listen()'s to report: not logged on top.
      await expect(logged.listen(port, '127.0.0.1')).rejects.toBeInstanceOf(PortInUseError);
      await logged.listen(0, '127.0.0.1');
      logged.http.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }));
      expect(lines).toEqual([expect.objectContaining({ level: 50, msg: 'the HTTP server failed', err: expect.objectContaining({ code: 'EMFILE' }) })]);
    } finally {
      await logged.close();
    }
  });
});
