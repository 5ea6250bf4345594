import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { naiveReceptionistAgent } from '../../../reference/naive-agent.js';
import { simulate } from '../../../reference/sim/simulate.js';
import { verifySimulation } from '../../../reference/sim/verify-simulation.js';
import { startMediaServer, type TestMediaServer } from '../../helpers/media-server.js';
import { spanExporter } from '../../helpers/spans.js';
import { testTelemetry } from '../../helpers/telemetry.js';

function rootSpans(callSids: string[]): ReadableSpan[] {
  const wanted = new Set(callSids);
  return spanExporter()
    .getFinishedSpans()
    .filter((span) => span.name === 'media_stream' && wanted.has(String(span.attributes['call.sid'])));
}

describe('simulate against the cached receptionist', () => {
  let app: TestMediaServer;
  beforeAll(async () => {
    app = await startMediaServer();
  });
  afterAll(async () => {
    await app.stop();
  });

  it('--scenario mix: every call succeeds and leaves exactly the expected rows; 1 query at start, 0 live, 1 commit at end', async () => {
    const summary = await simulate({ url: app.server.url, calls: 8, concurrency: 4, durationMs: 2000, scenario: 'mix', seed: 7 });
    expect(summary).toMatchObject({ calls: 8, ok: 8, failed: 0, closeCodes: { 1000: 8 } });
    expect(new Set(summary.results.map((r) => r.scenario)).size).toBeGreaterThan(1);
    expect(await app.server.media.settled(5000)).toBe(true);
    expect(await verifySimulation(app.db.knex, summary)).toEqual([]);

    const roots = rootSpans(summary.results.map((r) => r.callSid));
    expect(roots).toHaveLength(8);
    for (const root of roots) {
      expect(root.attributes).toMatchObject({
        'call.db.queries.load': 1,
        'call.db.queries.live': 0,
        'call.db.commits.live': 0,
        'call.db.commits.flush': 1,
      });
    }
  });

  it('is reproducible: the same seed places the same calls', async () => {
    const plan = async () =>
      (await simulate({ url: app.server.url, calls: 4, concurrency: 4, durationMs: 100, scenario: 'mix', seed: 3 })).results.map(
        (r) => `${r.scenario}/${r.business}/${r.caller}`,
      );
    expect(await plan()).toEqual(await plan());
  });
});

describe('simulate against the naive agent', () => {
  let naive: TestMediaServer;
  beforeAll(async () => {
    naive = await startMediaServer({}, naiveReceptionistAgent);
  });
  afterAll(async () => {
    await naive.stop();
  });

  it('the same rows, but queries and commits during the live call, each reported by the guard', async () => {
    const before = await testTelemetry().metrics.counterValue('live_call.db.violations', { mode: 'report' });
    const summary = await simulate({ url: naive.server.url, calls: 4, concurrency: 4, durationMs: 2000, scenario: 'mix', seed: 5 });
    expect(summary.ok).toBe(4);
    expect(await naive.server.media.settled(5000)).toBe(true);
    expect(await verifySimulation(naive.db.knex, summary)).toEqual([]);
    for (const root of rootSpans(summary.results.map((r) => r.callSid))) {
      expect(Number(root.attributes['call.db.queries.live'])).toBeGreaterThan(5);
      expect(Number(root.attributes['call.db.commits.live'])).toBeGreaterThanOrEqual(3);
    }
    expect(await testTelemetry().metrics.counterValue('live_call.db.violations', { mode: 'report' })).toBeGreaterThan(before + 20);
  });
});
