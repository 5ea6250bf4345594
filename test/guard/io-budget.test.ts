import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LiveCallDbAccessError, LiveCallIoAccessError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { httpGet, inLiveCall, ioEvents, outcomeOf, startCountingHttpServer, type CountingHttpServer } from '../helpers/live-io.js';
import { testTelemetry } from '../helpers/telemetry.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
/**
 * A budget any real request overruns: the first disallowed request of a turn
 * starts with budget left and runs; once it ends (a loopback round trip, far
 * more than a nanosecond) the budget is spent. No clock is asserted.
 */
const ONE_NANOSECOND_MS = 1e-6;

const { guard } = testTelemetry();
let server: CountingHttpServer;
let db: TestDatabase;
let redis: ReturnType<typeof createClient>;

beforeAll(async () => {
  server = await startCountingHttpServer();
  db = await createTestDatabase({ migrated: false });
  await db.knex.raw('create table budget_probe (n int)');
  redis = createClient({ url: REDIS_URL });
  try {
    await redis.connect();
  } catch (error) {
    throw new Error(`these tests need Redis on ${REDIS_URL} (apt-get install redis-server): ${(error as Error).message}`);
  }
});

afterAll(async () => {
  await redis?.quit();
  await server?.close();
  await db?.drop();
});

afterEach(() => {
  guard.setMode('report');
  guard.setAllowHosts([]);
});

const url = (path: string): string => `http://127.0.0.1:${server.port}${path}`;
const probeRows = async (): Promise<number> => Number((await db.knex('budget_probe').count<{ count: string }[]>('* as count'))[0]!.count);
const redisCount = async (): Promise<number> => Number((await redis.get('lcg:io-budget')) ?? 0);

describe('ioBudgetMs in block mode: disallowed I/O runs while the turn has budget left, then is blocked', () => {
  it('the first request of a turn runs (a violation, not blocked); once the budget is spent pg, node:http and node-redis are blocked before sending; a new turn has its budget again', async () => {
    guard.setMode('block');
    const before = { http: server.received, rows: await probeRows(), redis: await redisCount() };
    let spent: { http: unknown; pg: unknown; redis: unknown } | undefined;
    let nextTurn: unknown;
    const { outcome, live } = await inLiveCall(async (call) => {
      call.startTurn();
      await httpGet(url('/first'));
      spent = {
        http: await outcomeOf(() => httpGet(url('/second'))),
        pg: await outcomeOf(() => db.knex('budget_probe').insert({ n: 1 })),
        redis: await outcomeOf(() => redis.incr('lcg:io-budget')),
      };
      call.startTurn();
      nextTurn = await outcomeOf(() => httpGet(url('/next-turn')));
    }, ONE_NANOSECOND_MS);

    expect(outcome).toEqual({ ok: true });
    expect(server.received).toBe(before.http + 2); // /first and /next-turn
    expect(await probeRows()).toBe(before.rows);
    expect(await redisCount()).toBe(before.redis);
    expect(nextTurn).toEqual({ ok: true });
    const { http, pg, redis: redisOutcome } = spent as Record<string, { ok: false; error: Error }>;
    expect(http!.error).toBeInstanceOf(LiveCallIoAccessError);
    expect(redisOutcome!.error).toBeInstanceOf(LiveCallIoAccessError);
    expect(pg!.error).toBeInstanceOf(LiveCallDbAccessError);
    expect(http!.error.message).toMatch(/budget is spent \(ioBudgetMs 0\.000001, [\d.]+ ms spent\)/);

    const violations = live.events.filter((e) => e.name === 'live_call.io_violation' || e.name === 'live_call.db_violation');
    expect(violations.map((e) => [e.attributes!['live_call.io.kind'], e.attributes!['live_call.blocked'], e.attributes!['live_call.io.within_budget'] ?? false])).toEqual([
      ['http', false, true],
      ['http', true, false],
      ['db', true, false],
      ['redis', true, false],
      ['http', false, true],
    ]);
    expect(live.events.filter((e) => e.name === 'live_call.io_budget_exceeded').map((e) => e.attributes!['live_call.turn.number'])).toEqual([1, 2]);
  });

  it('I/O the guard cannot block (fetch) runs and is charged: the blockable request after it is blocked', async () => {
    guard.setMode('block');
    const before = server.received;
    let after: unknown;
    const { live } = await inLiveCall(async () => {
      await (await fetch(url('/fetch'))).text();
      after = await outcomeOf(() => httpGet(url('/after-fetch')));
    }, ONE_NANOSECOND_MS);
    expect(server.received).toBe(before + 1);
    expect((after as { error: unknown }).error).toBeInstanceOf(LiveCallIoAccessError);
    expect(ioEvents(live).map((e) => e.attributes!['live_call.blocked'])).toEqual([false, true]);
  });

  it('allowed I/O (an allowlisted host) is never charged nor blocked, before or after the budget is spent', async () => {
    guard.setMode('block');
    guard.setAllowHosts(['localhost']);
    const before = server.received;
    const allowed = (path: string) => httpGet(`http://localhost:${server.port}${path}`);
    const { outcome, live } = await inLiveCall(async () => {
      await allowed('/allowed-1');
      await httpGet(url('/disallowed')); // within budget: runs, spends it
      await allowed('/allowed-2');
    }, ONE_NANOSECOND_MS);
    expect(outcome).toEqual({ ok: true });
    expect(server.received).toBe(before + 3);
    expect(ioEvents(live)).toHaveLength(1);
  });

  it('without ioBudgetMs, block mode blocks from the first request (as it always did)', async () => {
    guard.setMode('block');
    const before = server.received;
    const { outcome } = await inLiveCall(() => httpGet(url('/no-budget')));
    expect((outcome as { error: Error }).error).toBeInstanceOf(LiveCallIoAccessError);
    expect((outcome as { error: Error }).error.message).toContain('no outbound I/O outside the allowlist may run');
    expect(server.received).toBe(before);
  });

  it('report mode: the budget is reported, never enforced (requests after the overrun still run)', async () => {
    const before = server.received;
    const { outcome, live } = await inLiveCall(async () => {
      await httpGet(url('/one'));
      await httpGet(url('/two'));
    }, ONE_NANOSECOND_MS);
    expect(outcome).toEqual({ ok: true });
    expect(server.received).toBe(before + 2);
    expect(ioEvents(live).map((e) => e.attributes!['live_call.blocked'])).toEqual([false, false]);
    expect(live.events.filter((e) => e.name === 'live_call.io_budget_exceeded')).toHaveLength(1);
  });
});
