import { EventEmitter } from 'node:events';
import { context, trace } from '@opentelemetry/api';
import { AlwaysOffSampler, AlwaysOnSampler, TraceIdRatioBasedSampler, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Knex } from 'knex';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GuardMode } from '../../reference/config.js';
import { createKnex } from '../../reference/db/knex.js';
import { LiveCallDbAccessError } from '../../src/errors.js';
import { CallDbReport, runInCallPhase, withCallDbReport } from '../../src/guard/call-db-report.js';
import { allowDatabaseDuringLiveCall, startLiveCall, type LiveCall } from '../../src/guard/live-call.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { pgSpans, spanExporter } from '../helpers/spans.js';
import { testTelemetry } from '../helpers/telemetry.js';

/** What a way of querying needs. */
interface Clients {
  knex: Knex;
  pool: pg.Pool;
  client: pg.Client;
}

const INSERT = 'insert into guard_probe (tag) values ($1)';

/**
 * The corpus: ways application code issues a query while a call is live.
 * Each inserts a row tagged `tag` and returns a promise that settles when the
 * query has (the test awaits it outside the live call's code).
 */
const CORPUS: Record<string, (c: Clients, tag: string) => Promise<unknown>> = {
  'direct await': async ({ knex }, tag) => {
    await knex('guard_probe').insert({ tag });
  },
  'promise chain': ({ knex }, tag) =>
    knex('guard_probe')
      .insert({ tag })
      .then(() => 'done'),
  'async function': async ({ knex }, tag) => {
    const save = async (value: string) => knex('guard_probe').insert({ tag: value });
    await save(tag);
  },
  setTimeout: ({ knex }, tag) =>
    new Promise((resolve, reject) => {
      setTimeout(() => knex('guard_probe').insert({ tag }).then(resolve, reject), 0);
    }),
  setImmediate: ({ knex }, tag) =>
    new Promise((resolve, reject) => {
      setImmediate(() => knex('guard_probe').insert({ tag }).then(resolve, reject));
    }),
  'process.nextTick': ({ knex }, tag) =>
    new Promise((resolve, reject) => {
      process.nextTick(() => knex('guard_probe').insert({ tag }).then(resolve, reject));
    }),
  queueMicrotask: ({ knex }, tag) =>
    new Promise((resolve, reject) => {
      queueMicrotask(() => knex('guard_probe').insert({ tag }).then(resolve, reject));
    }),
  'EventEmitter listener': ({ knex }, tag) => {
    const events = new EventEmitter();
    const settled = new Promise((resolve, reject) => {
      events.on('name-captured', (value: string) => knex('guard_probe').insert({ tag: value }).then(resolve, reject));
    });
    events.emit('name-captured', tag);
    return settled;
  },
  'knex transaction': ({ knex }, tag) => knex.transaction(async (trx) => trx('guard_probe').insert({ tag })),
  'knex.raw': ({ knex }, tag) => knex.raw('insert into guard_probe (tag) values (?)', [tag]),
  'raw pg.Pool': ({ pool }, tag) => pool.query(INSERT, [tag]),
  'raw pg.Client': async ({ client }, tag) => client.query(INSERT, [tag]),
  'unawaited query': ({ knex }, tag) => {
    // Fire and forget: the code does not wait; the test does, through `settled`.
    let settle!: (outcome: unknown) => void;
    const settled = new Promise((resolve) => (settle = resolve));
    void knex
      .raw('insert into guard_probe (tag) values (?)', [tag])
      .then(() => settle({ ok: true }))
      .catch((error: unknown) => settle({ error }));
    return settled.then((outcome) => {
      if ((outcome as { error?: unknown }).error) throw (outcome as { error: unknown }).error;
      return outcome;
    });
  },
};

/** Ways whose application frames survive on the stack (async frames across `await`). */
const AWAITED_WAYS = new Set(['direct await', 'async function', 'raw pg.Client']);

let tagCounter = 0;
function newTag(label: string): string {
  tagCounter += 1;
  return `${label.replace(/\W+/g, '-')}-${process.pid}-${tagCounter}`;
}

describe('LiveCallGuardProcessor on real queries', () => {
  let db: TestDatabase;
  let clients: Clients;
  const { guard, sampler, metrics } = testTelemetry();

  async function rowExists(tag: string): Promise<boolean> {
    return Boolean(await db.knex('guard_probe').where({ tag }).first('id'));
  }

  /** Runs `way` in a fresh live call, waits for the query to settle, ends the call. */
  async function inLiveCall(
    way: (c: Clients, tag: string) => Promise<unknown>,
    tag: string,
  ): Promise<{ live: LiveCall; outcome: PromiseSettledResult<unknown> }> {
    const live = startLiveCall({ callSid: `CA${tag}`, tenantId: 7 });
    const [outcome] = await Promise.allSettled([live.run(() => way(clients, tag))]);
    live.end();
    return { live, outcome: outcome! };
  }

  function finishedSpan(live: LiveCall): ReadableSpan {
    const span = spanExporter()
      .getFinishedSpans()
      .find((s) => s.spanContext().spanId === live.span.spanContext().spanId);
    if (!span) throw new Error('in_live_call span not exported');
    return span;
  }

  function insertSpansOf(live: LiveCall): ReadableSpan[] {
    return pgSpans(live.span.spanContext().traceId).filter((span) =>
      String(span.attributes['db.query.text'] ?? '').startsWith('insert into'),
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.knex.schema.createTable('guard_probe', (t) => {
      t.increments('id');
      t.text('tag').notNullable();
    });
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    clients = { knex: db.knex, pool, client };
  });

  afterEach(() => {
    guard.setMode('report');
    sampler.current = new AlwaysOnSampler();
  });

  afterAll(async () => {
    await clients.client.end();
    await clients.pool.end();
    await db.drop();
  });

  describe.each(Object.entries(CORPUS))('%s', (name, way) => {
    it('is reported in report mode: the query runs, its span and the live call say so', async () => {
      const tag = newTag(name);
      const before = await metrics.counterValue('live_call.db.violations', { mode: 'report' });
      const { live, outcome } = await inLiveCall(way, tag);

      expect(outcome.status).toBe('fulfilled');
      expect(await rowExists(tag)).toBe(true);

      const [insert] = insertSpansOf(live);
      expect(insert, 'the insert span').toBeDefined();
      expect(insert!.attributes['live_call.violation']).toBe(true);
      expect(insert!.attributes['live_call.id']).toBe(live.callSid);
      expect(insert!.status.code).toBe(2); // ERROR

      const events = finishedSpan(live).events.filter((event) => event.name === 'live_call.db_violation');
      const event = events.find((e) =>
        String(e.attributes?.['db.query.text']).replaceAll('"', '').startsWith('insert into guard_probe'),
      );
      expect(event, 'a live_call.db_violation event with the query text').toBeDefined();
      const stack = String(event!.attributes?.['code.stacktrace']);
      expect(stack).not.toContain('@opentelemetry');
      expect(stack).not.toContain('call-site');
      if (AWAITED_WAYS.has(name)) expect(stack).toContain('live-call-guard.test.ts');
      expect(await metrics.counterValue('live_call.db.violations', { mode: 'report' })).toBeGreaterThan(
        before,
      );
      // One time series per mode, never one per tenant (the span carries the tenant).
      expect(await metrics.attributeKeysOf('live_call.db.violations')).toEqual(['mode']);
    });

    it('is blocked in block mode: rejected with ERR_LIVE_CALL_DB_ACCESS, and the row never reaches the server', async () => {
      guard.setMode('block');
      const tag = newTag(name);
      const before = await metrics.counterValue('live_call.db.violations', { mode: 'block' });
      const { live, outcome } = await inLiveCall(way, tag);
      guard.setMode('report');

      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as { code?: string };
      expect(reason.code).toBe('ERR_LIVE_CALL_DB_ACCESS');
      expect(await rowExists(tag)).toBe(false);

      const events = finishedSpan(live).events.filter((event) => event.name === 'live_call.db_violation');
      expect(events.length).toBeGreaterThan(0);
      expect(events[0]!.attributes?.['live_call.blocked']).toBe(true);
      expect(await metrics.counterValue('live_call.db.violations', { mode: 'block' })).toBeGreaterThan(
        before,
      );
    });
  });

  it('leaves every client usable after a blocked query: no connection leaked or half-open', async () => {
    guard.setMode('block');
    const cold = createKnex(db.url, { poolMax: 1 });
    try {
      const live = startLiveCall({ callSid: 'CA-cold', tenantId: 7 });
      await expect(live.run(() => cold.raw('select 1'))).rejects.toBeInstanceOf(LiveCallDbAccessError);
      await expect(live.run(() => clients.pool.query('select 1'))).rejects.toBeInstanceOf(LiveCallDbAccessError);
      live.end();
      guard.setMode('report');
      // Outside the call, the same pools answer, with their single connection free again.
      expect((await cold.raw('select 2 as two')).rows).toEqual([{ two: 2 }]);
      expect((cold.client as { pool: { numUsed(): number } }).pool.numUsed()).toBe(0);
      expect((await clients.pool.query('select 3 as three')).rows).toEqual([{ three: 3 }]);
      expect((await clients.client.query('select 4 as four')).rows).toEqual([{ four: 4 }]);
    } finally {
      await cold.destroy();
    }
  });

  describe('no false positives', () => {
    it('does not flag queries outside any call', async () => {
      const traceId = await trace.getTracer('test').startActiveSpan('outside', async (span) => {
        await db.knex.raw('select 1 as outside');
        span.end();
        return span.spanContext().traceId;
      });
      const [query] = pgSpans(traceId);
      expect(query!.attributes['live_call.violation']).toBeUndefined();
      expect(query!.attributes['live_call.id']).toBeUndefined();
    });

    it("does not flag the call's own context load and flush, and counts them by phase", async () => {
      guard.setMode('block');
      const report = new CallDbReport();
      const root = trace.getTracer('test').startSpan('media_stream');
      const callContext = withCallDbReport(report, trace.setSpan(context.active(), root));
      await context.with(callContext, async () => {
        await runInCallPhase('load', () => db.knex.raw('select 1 as load'));
        const live = startLiveCall({ callSid: 'CA-phases', tenantId: 7 });
        await expect(live.run(() => db.knex.raw('select 1 as live'))).rejects.toBeInstanceOf(LiveCallDbAccessError);
        live.end();
        await runInCallPhase('flush', () =>
          db.knex.transaction(async (trx) => trx('guard_probe').insert({ tag: newTag('flush') })),
        );
      });
      report.applyTo(root);
      root.end();

      const figures = report.figures();
      // flush: BEGIN, INSERT, COMMIT; the blocked live query never ran.
      expect(figures.queries).toEqual({ load: 1, live: 0, flush: 3, other: 0 });
      expect(figures.commits).toEqual({ load: 0, live: 0, flush: 1, other: 0 });
      expect(figures.timeMs).toBeGreaterThan(0);
      const spans = pgSpans(root.spanContext().traceId);
      expect(spans.some((span) => span.attributes['live_call.violation'])).toBe(false);
      const exportedRoot = spanExporter()
        .getFinishedSpans()
        .find((s) => s.spanContext().spanId === root.spanContext().spanId)!;
      expect(exportedRoot.attributes).toMatchObject({
        'call.db.queries.load': 1,
        'call.db.queries.live': 0,
        'call.db.queries.flush': 3,
      });
    });

    it("does not flag another call's flush running while this call is live", async () => {
      guard.setMode('block');
      const outside = context.active();
      const liveA = startLiveCall({ callSid: 'CA-A', tenantId: 7 });
      const tag = newTag('call-b-flush');
      const flushB = context.with(outside, () =>
        runInCallPhase('flush', () => db.knex.transaction(async (trx) => trx('guard_probe').insert({ tag }))),
      );
      const tickA = liveA.run(async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return 'frame handled';
      });
      await expect(Promise.all([flushB, tickA])).resolves.toEqual([expect.anything(), 'frame handled']);
      liveA.end();
      expect(await rowExists(tag)).toBe(true);
    });
  });

  it('allows a query inside allowDatabaseDuringLiveCall, reported as allowed with its reason', async () => {
    guard.setMode('block');
    const tag = newTag('allowed');
    const live = startLiveCall({ callSid: 'CA-allowed', tenantId: 7 });
    await live.run(() =>
      allowDatabaseDuringLiveCall('transfer needs the on-call roster', () => db.knex('guard_probe').insert({ tag })),
    );
    live.end();
    expect(await rowExists(tag)).toBe(true);
    const [insert] = insertSpansOf(live);
    expect(insert!.attributes).toMatchObject({
      'live_call.allowed': true,
      'live_call.allowed_reason': 'transfer needs the on-call roster',
      'live_call.id': 'CA-allowed',
    });
    expect(insert!.attributes['live_call.violation']).toBeUndefined();
    expect(finishedSpan(live).events.filter((e) => e.name === 'live_call.db_violation')).toEqual([]);
  });

  describe.each([
    ['always off', () => new AlwaysOffSampler()],
    ['a 1% ratio', () => new TraceIdRatioBasedSampler(0.01)],
  ])('with the sampler at %s', (_label, makeSampler) => {
    it.each<GuardMode>(['report', 'block'])('still detects every live query in %s mode', async (mode) => {
      sampler.current = makeSampler();
      guard.setMode(mode);
      for (let i = 0; i < 5; i += 1) {
        const tag = newTag(`sampled-${mode}`);
        const before = await metrics.counterValue('live_call.db.violations', { mode });
        const { outcome } = await inLiveCall(CORPUS['direct await']!, tag);
        expect(await metrics.counterValue('live_call.db.violations', { mode })).toBe(before + 1);
        expect(outcome.status).toBe(mode === 'block' ? 'rejected' : 'fulfilled');
        expect(await rowExists(tag)).toBe(mode === 'report');
      }
    });
  });

  it('does nothing in off mode', async () => {
    guard.setMode('off');
    const tag = newTag('off');
    const before = await metrics.counterValue('live_call.db.violations');
    const { live, outcome } = await inLiveCall(CORPUS['direct await']!, tag);
    expect(outcome.status).toBe('fulfilled');
    expect(await metrics.counterValue('live_call.db.violations')).toBe(before);
    expect(insertSpansOf(live)[0]!.attributes['live_call.violation']).toBeUndefined();
  });
});
