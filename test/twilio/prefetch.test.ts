import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../reference/config.js';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import { serve, type RunningServer } from '../../reference/serve.js';
import { TwilioStreamClient } from '../../src/testing/twilio-stream-client.js';
import { newCallSid, postTwiml, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';
import { createTestDatabase } from '../helpers/database.js';
import { startPgWireCounter } from '../helpers/pg-wire-counter.js';
import { pgSpans, spanExporter } from '../helpers/spans.js';

const SECRET = 'stream-secret-0123456789abcdef';
const JANE = '+15551230001'; // "Dr. Jane Q. Smith", a lead of the dental clinic

const isMark = (name: string) => (m: { event: string; mark?: { name: string } }) => m.event === 'mark' && m.mark?.name === name;

function rootSpanOf(streamSid: string): ReadableSpan {
  const span = spanExporter()
    .getFinishedSpans()
    .find((s) => s.name === 'media_stream' && s.attributes['call.stream_sid'] === streamSid);
  if (!span) throw new Error(`no media_stream span for ${streamSid}`);
  return span;
}

/** The statements a stream ran at its start: the pg spans of its trace, outside the flush. */
function startStatements(root: ReadableSpan): string[] {
  const trace = spanExporter()
    .getFinishedSpans()
    .filter((s) => s.spanContext().traceId === root.spanContext().traceId);
  const flush = new Set(trace.filter((s) => s.name === 'call.flush').map((s) => s.spanContext().spanId));
  return pgSpans(root.spanContext().traceId)
    .filter((s) => !s.name.includes('connect') && !flush.has(s.parentSpanContext?.spanId ?? ''))
    .map((s) => String(s.attributes['db.query.text']));
}

describe('context prefetched at the webhook, handed over at start', () => {
  let app: TestMediaServer;
  /** Another server process on the same database: where a stream may land instead (another worker, a restart). */
  let peer: RunningServer;

  beforeAll(async () => {
    app = await startMediaServer({ CALL_STREAM_SECRET: SECRET });
    peer = await serve(loadConfig({ PORT: '0', DATABASE_URL: app.db.url, JOURNAL_DIR: `${app.journalDir}/peer`, CALL_STREAM_SECRET: SECRET }), pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await peer?.close();
    await app?.stop();
  });

  /** A stream of the call on `server`: greeted (then hung up), or closed at once (refused). */
  async function stream(server: RunningServer, callSid: string, streamSid: string, parameters: Record<string, string>) {
    const client = await TwilioStreamClient.connect(`${server.url.replace('http', 'ws')}/media`);
    client.connected();
    client.start({ callSid, streamSid, customParameters: parameters });
    const greeting = await Promise.race([client.waitFor(isMark('greeting')).then((m) => m), client.closed.then(() => undefined)]);
    if (greeting) client.stop(callSid);
    const closed = await client.closed;
    return { greeted: greeting !== undefined, closed };
  }

  it('a stream on the process that answered the webhook takes the context: its only statement at start is the claim, not the load', async () => {
    const callSid = newCallSid();
    const before = app.server.media.stats().prefetch;
    const { stream: twiml } = await postTwiml(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    expect(app.server.media.stats().prefetch.started).toBe(before.started + 1);
    const streamSid = `MZ${callSid.slice(2)}`;
    expect(await stream(app.server, callSid, streamSid, twiml!.parameters)).toMatchObject({ greeted: true, closed: { code: 1000 } });
    await app.streamEnded(streamSid);

    const root = rootSpanOf(streamSid);
    expect(root.attributes).toMatchObject({ 'call.context.prefetched': true, 'call.db.queries.load': 1, 'call.db.queries.live': 0 });
    const statements = startStatements(root);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/insert into "live_call_stream_claims"/);
    expect(statements[0]).not.toMatch(/businesses|call_logs|leads/);
    expect(app.server.media.stats().prefetch.hits).toBe(before.hits + 1);
    // The greeting used the context loaded at the webhook: the lead's name.
    const session = await app.db.knex('call_sessions').where({ call_sid: callSid }).first();
    expect(session.state.greeting).toContain('Jane');
  });

  it('a stream on another process (nothing prefetched there) loads its context at start, claim in the same statement, as without a prefetch', async () => {
    const callSid = newCallSid();
    const { stream: twiml } = await postTwiml(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    const misses = peer.media.stats().prefetch.misses;
    const streamSid = `MZpeer${callSid.slice(6)}`;
    const ended = new Promise<void>((resolve) => peer.media.on('callEnded', (e) => e.streamSid === streamSid && resolve()));
    expect(await stream(peer, callSid, streamSid, twiml!.parameters)).toMatchObject({ greeted: true, closed: { code: 1000 } });
    expect(peer.media.stats().prefetch.misses).toBe(misses + 1);
    await ended;
    const root = rootSpanOf(streamSid);
    expect(root.attributes['call.context.prefetched']).toBeUndefined();
    const statements = startStatements(root);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/insert into "live_call_stream_claims"[\s\S]*businesses/);
  });

  it('a replay of a prefetched stream is refused (1008), on the same process and on another', async () => {
    const callSid = newCallSid();
    const { stream: twiml } = await postTwiml(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    const streamSid = `MZ${callSid.slice(2)}`;
    expect((await stream(app.server, callSid, streamSid, twiml!.parameters)).greeted).toBe(true);
    await app.streamEnded(streamSid);
    for (const server of [app.server, peer]) {
      expect(await stream(server, callSid, 'MZreplayed', twiml!.parameters)).toMatchObject({
        greeted: false,
        closed: { code: 1008, reason: expect.stringMatching(/replay/) },
      });
    }
  });

  it('a replay of a stream that loaded at start on another process is refused where the webhook prefetched it too (its claim runs on the hit)', async () => {
    const callSid = newCallSid();
    const { stream: twiml } = await postTwiml(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    expect((await stream(peer, callSid, 'MZfirst', twiml!.parameters)).greeted).toBe(true);
    const hits = app.server.media.stats().prefetch.hits;
    // The webhook's process still holds the prefetched context: the replay takes it, and its claim refuses it.
    expect(await stream(app.server, callSid, 'MZreplay', twiml!.parameters)).toMatchObject({
      greeted: false,
      closed: { code: 1008, reason: expect.stringMatching(/replay/) },
    });
    expect(app.server.media.stats().prefetch.hits).toBe(hits + 1);
    expect(await stream(peer, callSid, 'MZreplay2', twiml!.parameters)).toMatchObject({ closed: { code: 1008 } });
  });

  it('a webhook retried by Twilio does not load the context twice', async () => {
    const callSid = newCallSid();
    const before = app.server.media.stats().prefetch;
    const form = { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE };
    const first = await postTwiml(app.server.url, form);
    const retried = await postTwiml(app.server.url, form);
    expect(retried.stream?.parameters.token).not.toBe(first.stream?.parameters.token);
    const after = app.server.media.stats().prefetch;
    expect(after.started - before.started).toBe(1);
    expect(after.duplicates - before.duplicates).toBe(1);
    // The stream of the retried answer (same call, same parameters, its own token) takes the one context.
    const streamSid = `MZretry${callSid.slice(7)}`;
    expect((await stream(app.server, callSid, streamSid, retried.stream!.parameters)).greeted).toBe(true);
    await app.streamEnded(streamSid);
    expect(rootSpanOf(streamSid).attributes['call.context.prefetched']).toBe(true);
    const loads = spanExporter()
      .getFinishedSpans()
      .filter((s) => s.name === 'call.load_context' && s.attributes['call.sid'] === callSid);
    expect(loads).toHaveLength(1);
  });
});

describe('a prefetched context whose claim fails', () => {
  it('is not handed over (fail closed): with the database unreachable at start, the call goes on without a context', async () => {
    const db = await createTestDatabase();
    const wire = await startPgWireCounter(db.url);
    const journalDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-prefetch-'));
    const contexts: unknown[] = [];
    const agent = { startCall: (call: { context: unknown; mark(name: string): void }) => (contexts.push(call.context), call.mark('started'), {}) };
    const server = await serve(
      loadConfig({ PORT: '0', DATABASE_URL: wire.url, JOURNAL_DIR: journalDir, CALL_STREAM_SECRET: SECRET, DRAIN_TIMEOUT_S: '5' }),
      pino({ level: 'silent' }),
      { agent: agent as never },
    );
    try {
      const callSid = newCallSid();
      const { stream: twiml } = await postTwiml(server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
      const { token: _token, ...parameters } = twiml!.parameters;
      // The same call again: a duplicate, whose `settled` is the webhook's load.
      const again = server.media.prefetch({ callSid, parameters });
      expect(again.outcome).toBe('duplicate');
      await again.settled;
      expect(server.media.stats().prefetch.failed).toBe(0);

      wire.setRefusing(true);
      const client = await TwilioStreamClient.connect(`${server.url.replace('http', 'ws')}/media`);
      client.connected();
      client.start({ callSid, streamSid: `MZ${callSid.slice(2)}`, customParameters: twiml!.parameters });
      await client.waitFor(isMark('started'));
      expect(contexts).toEqual([null]);
      expect(server.media.stats().problems.context_unavailable).toBe(1);
      expect(server.media.stats().prefetch.hits).toBe(1);
      wire.setRefusing(false);
      client.stop(callSid);
      await client.closed;
    } finally {
      wire.setRefusing(false);
      await server.close();
      await wire.close();
      await db.drop();
      await fs.rm(journalDir, { recursive: true, force: true });
    }
  });
});
