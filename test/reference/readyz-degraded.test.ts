import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import { newCallSid, placeCall, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';

const JANE = '+15550100001';

/** New sessions of the server's database start read-only (or not); the pool's open ones are ended so they reconnect. */
async function setReadOnly(server: TestMediaServer, readOnly: boolean): Promise<void> {
  const { knex } = server.db;
  const name = (await knex.raw('select current_database() as name')).rows[0].name as string;
  await knex.raw(`alter database ?? set default_transaction_read_only = ${readOnly ? 'on' : 'off'}`, [name]);
  await knex.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [name]);
}

describe('a failover (the database read-only) is not a permanent failure', () => {
  let app: TestMediaServer;

  beforeAll(async () => {
    app = await startMediaServer();
  });
  afterAll(async () => {
    await app.stop();
  });

  it('/readyz is degraded while the flush is retried, the writes land once the database takes them, then ready again', async () => {
    const callSid = newCallSid();
    const { client } = await placeCall(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    await setReadOnly(app, true);
    // The first attempt may meet a connection the switch ended (57P01): both are retried; wait for the read-only one.
    const { flusher } = app.server;
    const readOnlyRetry = new Promise<void>((resolve) => {
      const onRetry = ({ error }: { error: unknown }): void => {
        if ((error as { code?: string }).code !== '25006') return; // read_only_sql_transaction
        flusher.off('retry', onRetry);
        resolve();
      };
      flusher.on('retry', onRetry);
    });
    client.stop(callSid);
    await readOnlyRetry;
    expect(flusher.stats().deadLettered).toBe(0);

    const degraded = await fetch(`${app.server.url}/readyz`);
    expect(degraded.status).toBe(503);
    expect(await degraded.json()).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/flushes are failing/) });

    const flushed = once(app.server.flusher, 'flushed');
    await setReadOnly(app, false);
    expect((await flushed)[0]).toMatchObject({ callSid });
    expect(await app.db.knex('call_sessions').where({ call_sid: callSid })).toHaveLength(1);
    expect(app.server.flusher.stats()).toMatchObject({ deadLettered: 0, degraded: false });
    expect((await fetch(`${app.server.url}/readyz`)).status).toBe(200);
  });
});
