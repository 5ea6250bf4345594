import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receptionistApp } from '../../reference/app.js';
import { Flusher, Journal } from '../../src/index.js';
import { STREAM_CLAIMS_TABLE } from '../../src/context/stream-claims.js';
import { mediaStream } from '../../src/twilio/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { pgSpans } from '../helpers/spans.js';

describe('mediaStream prunes expired stream claims on a timer, off every call', () => {
  let db: TestDatabase;
  let dir: string;
  let journal: Journal;
  const logger = pino({ level: 'silent' });
  const flusher = () => new Flusher({ knex: db.knex, operations: receptionistApp.writes, journal, logger });
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcg-prune-'));
    journal = new Journal({ dir });
  });
  afterAll(async () => {
    journal?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  it('deletes expired claims only, in a trace of its own (never under a call), and stops with drain', async () => {
    const claim = (key: string, expiresInMs: number) => ({ stream_key: key, call_sid: 'CAprune', tenant_id: '1', expires_at: new Date(Date.now() + expiresInMs) });
    await db.knex(STREAM_CLAIMS_TABLE).insert([claim('timer:old1', -60_000), claim('timer:old2', -1_000), claim('timer:live', 60_000)]);
    const media = mediaStream({
      knex: db.knex,
      app: receptionistApp,
      agent: { startCall: () => ({}) },
      flusher: flusher(),
      logger,
      claimsPruneIntervalMs: 20,
    });
    const pruned = await new Promise<{ deleted: number }>((resolve) => media.on('claimsPruned', resolve));
    await media.drain(0);
    expect(pruned.deleted).toBe(2);
    expect(await db.knex(STREAM_CLAIMS_TABLE).where('stream_key', 'like', 'timer:%').pluck('stream_key')).toEqual(['timer:live']);
    const deletes = pgSpans().filter((span) => /^delete from "live_call_stream_claims"/.test(String(span.attributes['db.query.text'])));
    expect(deletes.length).toBeGreaterThan(0);
    for (const span of deletes) expect(span.parentSpanContext).toBeUndefined();
  });

  it('refuses a claimsPruneIntervalMs that is not a whole number, naming it', () => {
    expect(() =>
      mediaStream({
        knex: db.knex,
        app: receptionistApp,
        agent: { startCall: () => ({}) },
        flusher: flusher(),
        logger,
        claimsPruneIntervalMs: -1,
      }),
    ).toThrow(/claimsPruneIntervalMs must be a whole number >= 0 \(0: never\); received -1/);
  });
});
