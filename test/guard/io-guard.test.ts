import { createRequire } from 'node:module';
import { SpanKind } from '@opentelemetry/api';
import { AlwaysOffSampler, AlwaysOnSampler } from '@opentelemetry/sdk-trace';
import type { Redis as IORedisClient } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LiveCallIoAccessError } from '../../src/errors.js';
import { httpGet, inLiveCall, ioEvents, startCountingHttpServer, type CountingHttpServer } from '../helpers/live-io.js';
import { spanExporter } from '../helpers/spans.js';
import { testTelemetry } from '../helpers/telemetry.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

// Loaded through require, as a CommonJS app (or an ESM app started with the
// register hook, see docs/guard-io.md) loads it: instrumentation-ioredis hooks require.
const require = createRequire(import.meta.url);
const IORedis = require('ioredis') as typeof import('ioredis').default;

/** A real HTTP server on port 0 that counts the requests it receives. */
let server: CountingHttpServer;
let port = 0;
let ioredis: IORedisClient;
let nodeRedis: ReturnType<typeof createClient>;

const { guard, sampler, metrics } = testTelemetry();

beforeAll(async () => {
  server = await startCountingHttpServer();
  port = server.port;
  ioredis = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  nodeRedis = createClient({ url: REDIS_URL });
  try {
    await ioredis.connect();
    await nodeRedis.connect();
  } catch (error) {
    throw new Error(`these tests need Redis on ${REDIS_URL} (apt-get install redis-server): ${(error as Error).message}`);
  }
});

afterAll(async () => {
  ioredis.disconnect();
  await nodeRedis.quit();
  await server.close();
});

afterEach(() => {
  guard.setMode('report');
  guard.setAllowHosts([]);
  sampler.current = new AlwaysOnSampler();
});

const received = (): number => server.received;

/** The clients the guard judges, each doing one request to the local server or Redis. */
const CLIENTS = {
  fetch: { kind: 'http', run: async (host: string) => (await fetch(`http://${host}:${port}/tool`)).text(), counts: received },
  'node:http': { kind: 'http', run: (host: string) => httpGet(`http://${host}:${port}/tool`), counts: received },
  ioredis: { kind: 'redis', run: () => ioredis.incr('lcg:io-guard'), counts: redisCount },
  'node-redis': { kind: 'redis', run: () => nodeRedis.incr('lcg:io-guard'), counts: redisCount },
} as const;

async function redisCount(): Promise<number> {
  return Number((await nodeRedis.get('lcg:io-guard')) ?? 0);
}

describe('every outbound I/O under a live call is judged', () => {
  for (const [name, client] of Object.entries(CLIENTS)) {
    it(`${name}: reported in report mode, one violation per request, with the kind and the application's call site`, async () => {
      const before = await metrics.counterValue('live_call.io.violations', { 'live_call.io.kind': client.kind, mode: 'report' });
      const countBefore = await client.counts();
      const { outcome, live } = await inLiveCall(() => client.run('127.0.0.1'));
      expect(outcome.ok).toBe(true);
      expect(await client.counts()).toBe(countBefore + 1);
      const events = ioEvents(live);
      expect(events).toHaveLength(1);
      expect(events[0]!.attributes).toMatchObject({ 'live_call.io.kind': client.kind, 'live_call.blocked': false });
      expect(String(events[0]!.attributes!['code.stacktrace'])).toContain('io-guard.test.ts');
      expect(await metrics.counterValue('live_call.io.violations', { 'live_call.io.kind': client.kind, mode: 'report' })).toBe(before + 1);
    });

    it(`${name}: outside a live call, nothing is judged`, async () => {
      const before = await metrics.counterValue('live_call.io.violations');
      await client.run('127.0.0.1');
      expect(await metrics.counterValue('live_call.io.violations')).toBe(before);
    });

    it(`${name}: judged when the sampler drops everything`, async () => {
      sampler.current = new AlwaysOffSampler();
      const before = await metrics.counterValue('live_call.io.violations', { 'live_call.io.kind': client.kind });
      await inLiveCall(() => client.run('127.0.0.1'));
      expect(await metrics.counterValue('live_call.io.violations', { 'live_call.io.kind': client.kind })).toBe(before + 1);
    });
  }

  it('block mode: node:http fails through its own path (a throw from http.get, as for a bad URL) and nothing reaches the server', async () => {
    guard.setMode('block');
    const before = received();
    const { outcome } = await inLiveCall(() => httpGet(`http://127.0.0.1:${port}/tool`));
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: unknown }).error).toBeInstanceOf(LiveCallIoAccessError);
    guard.setMode('report');
    await httpGet(`http://127.0.0.1:${port}/after`);
    expect(received()).toBe(before + 1);
  });

  it('block mode: node-redis rejects the command and Redis never runs it', async () => {
    guard.setMode('block');
    const before = await redisCount();
    const { outcome } = await inLiveCall(() => nodeRedis.incr('lcg:io-guard'));
    guard.setMode('report');
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: unknown }).error).toBeInstanceOf(LiveCallIoAccessError);
    expect(await redisCount()).toBe(before);
  });

  it('block mode: fetch and ioredis are reported, not blocked (see docs/guard-io.md): the request runs, the process goes on', async () => {
    guard.setMode('block');
    const before = received();
    const redisBefore = await redisCount();
    const httpBlockBefore = await metrics.counterValue('live_call.io.violations', { 'live_call.io.kind': 'http', mode: 'block' });
    const redisBlockBefore = await metrics.counterValue('live_call.io.violations', { 'live_call.io.kind': 'redis', mode: 'block' });
    const fetched = await inLiveCall(() => CLIENTS.fetch.run('127.0.0.1'));
    const incremented = await inLiveCall(() => ioredis.incr('lcg:io-guard'));
    guard.setMode('report');
    expect(fetched.outcome.ok).toBe(true);
    expect(incremented.outcome.ok).toBe(true);
    expect(received()).toBe(before + 1);
    expect(await redisCount()).toBe(redisBefore + 1);
    expect(ioEvents(fetched.live)[0]!.attributes).toMatchObject({ 'live_call.io.kind': 'http', 'live_call.blocked': false });
    expect(ioEvents(incremented.live)[0]!.attributes).toMatchObject({ 'live_call.io.kind': 'redis', 'live_call.blocked': false });
    expect(await metrics.counterValue('live_call.io.violations', { 'live_call.io.kind': 'http', mode: 'block' })).toBe(httpBlockBefore + 1);
    expect(await metrics.counterValue('live_call.io.violations', { 'live_call.io.kind': 'redis', mode: 'block' })).toBe(redisBlockBefore + 1);
    // Still serving: a throw in fetch's diagnostics_channel subscriber would have been an uncaught exception (vitest fails the run on one).
    expect(await CLIENTS.fetch.run('127.0.0.1')).toBe('ok');
  });

  it('an allowlisted host is allowed and counted, never a violation, in block mode too', async () => {
    guard.setAllowHosts(['localhost']);
    guard.setMode('block');
    const allowedBefore = await metrics.counterValue('live_call.io.allowed', { 'live_call.io.kind': 'http' });
    const a = await inLiveCall(() => CLIENTS.fetch.run('localhost'));
    const b = await inLiveCall(() => CLIENTS['node:http'].run('localhost'));
    expect(a.outcome.ok).toBe(true);
    expect(b.outcome.ok).toBe(true);
    expect(ioEvents(a.live)).toEqual([]);
    expect(ioEvents(b.live)).toEqual([]);
    expect(await metrics.counterValue('live_call.io.allowed', { 'live_call.io.kind': 'http' })).toBe(allowedBefore + 2);
    const clientSpans = spanExporter()
      .getFinishedSpans()
      .filter((s) => s.kind === SpanKind.CLIENT && s.attributes['live_call.id'] === b.callSid);
    expect(clientSpans.map((s) => s.attributes['live_call.allowed_reason'])).toEqual(['allowlisted host localhost']);
  });

  it('stamps gen_ai.conversation.id (the call sid) on the live span and on the I/O spans under it', async () => {
    const { live, callSid } = await inLiveCall(() => CLIENTS.fetch.run('127.0.0.1'));
    expect(live.attributes['gen_ai.conversation.id']).toBe(callSid);
    const io = spanExporter()
      .getFinishedSpans()
      .filter((s) => s.attributes['live_call.id'] === callSid);
    expect(io.length).toBeGreaterThan(0);
    for (const span of io) expect(span.attributes['gen_ai.conversation.id']).toBe(callSid);
  });

  it('times live-path I/O by kind per call and per marked turn; an ioBudgetMs overrun is an event and a counter', async () => {
    const before = await metrics.counterValue('live_call.io.budget_exceeded', { 'live_call.io.budget_scope': 'turn' });
    const { live } = await inLiveCall(async (call) => {
      call.startTurn();
      await CLIENTS.fetch.run('127.0.0.1');
      call.startTurn();
      await nodeRedis.get('lcg:io-guard');
    }, 0);
    const turns = live.events.filter((e) => e.name === 'live_call.turn');
    expect(turns.map((e) => e.attributes!['live_call.turn.number'])).toEqual([1, 2]);
    expect(turns[0]!.attributes!['live_call.io.time_ms.http']).toBeGreaterThan(0);
    expect(turns[1]!.attributes!['live_call.io.time_ms.redis']).toBeGreaterThan(0);
    expect(turns[1]!.attributes!['live_call.io.time_ms.http']).toBeUndefined();
    expect(live.attributes['live_call.io.time_ms.http']).toBe(turns[0]!.attributes!['live_call.io.time_ms.http']);
    const overruns = live.events.filter((e) => e.name === 'live_call.io_budget_exceeded');
    expect(overruns.map((e) => e.attributes!['live_call.turn.number'])).toEqual([1, 2]);
    expect(await metrics.counterValue('live_call.io.budget_exceeded', { 'live_call.io.budget_scope': 'turn' })).toBe(before + 2);
    expect(await metrics.attributeKeysOf('live_call.io.duration')).toEqual(['call.phase', 'live_call.io.kind']);
  });

  it('allowed I/O is timed but not charged to the budget', async () => {
    guard.setAllowHosts(['localhost']);
    const { live } = await inLiveCall(() => CLIENTS.fetch.run('localhost'), 0);
    expect(live.attributes['live_call.io.time_ms.http']).toBeGreaterThan(0);
    expect(live.events.filter((e) => e.name === 'live_call.io_budget_exceeded')).toEqual([]);
  });
});
