import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import { realtimeReceptionistAgent } from '../../reference/realtime-agent.js';
import { allowDatabaseDuringLiveCall, startLiveCall } from '../../src/guard/live-call.js';
import { tones } from '../../src/testing/mulaw.js';
import { newCallSid, placeCall, postTwiml, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';
import { ROOT } from '../helpers/processes.js';
import { LocalRealtimeServer, serverEvents } from '../helpers/realtime-server.js';

const CALLER = '+15551230001';
const TENANT_ID = 'tenant-never-a-label-42';

/** One served sample: its metric name and labels. */
interface Sample {
  name: string;
  labels: Record<string, string>;
}

/** The samples of Prometheus text (`name{a="x",b="y"} value`). */
function samplesOf(text: string): Sample[] {
  return [...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/gm)].map((m) => ({
    name: m[1]!,
    labels: Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!])),
  }));
}

/** What a PromQL expression reads: metric names (identifiers followed by `{`, `[` or `)`, outside `by (...)`; not functions), the labels it groups by or matches. */
function queryOf(expr: string): { metrics: string[]; labels: string[]; matchers: Array<[string, string]> } {
  const metrics = new Set<string>();
  for (const match of expr.replace(/\bby \([^)]*\)/g, '').matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=[{[)])/g)) metrics.add(match[1]!);
  const labels = new Set<string>();
  for (const by of expr.matchAll(/\bby \(([^)]*)\)/g)) for (const label of by[1]!.split(',')) labels.add(label.trim());
  const matchers: Array<[string, string]> = [];
  for (const selector of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const m of selector[1]!.matchAll(/([a-z_][a-z0-9_]*)="([^"]*)"/g)) matchers.push([m[1]!, m[2]!]);
  }
  return { metrics: [...metrics], labels: [...labels], matchers };
}

describe('docs/grafana-live-call-guard.json against the /metrics of a real server after a real call', () => {
  let model: LocalRealtimeServer;
  let app: TestMediaServer;
  let samples: Sample[];
  let text: string;
  let callSid: string;

  beforeAll(async () => {
    model = await LocalRealtimeServer.start();
    const agent = realtimeReceptionistAgent({ apiKey: 'sk-test-dashboard-0123456789', url: model.url, connectTimeoutMs: 5_000 });
    // One call at a time: a second call is refused at the webhook (capacity).
    app = await startMediaServer({}, agent, { maxLiveCalls: 1 });

    // A Realtime call through the layer: context at start, one answered turn, a transcript write, the flush at the end.
    callSid = newCallSid();
    const next = model.nextConnection();
    const { client } = await placeCall(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: CALLER, Direction: 'inbound' }, { answerMarks: 'immediately' });
    const connection = await next;
    await connection.waitFor('session.update');
    connection.send(serverEvents.speechStarted('item_u1'));
    connection.send(serverEvents.speechStopped('item_u1', 900));
    connection.send(serverEvents.callerTranscript('item_u1', 'Hello?'));
    connection.speak('item_a1', 'resp_1', tones([{ hz: 660, ms: 40 }]), 'Hello, Bright Smile Dental.');
    await client.waitFor((m) => m.event === 'media');
    // A second caller while the first is live: busy TwiML.
    const refused = await postTwiml(app.server.url, { CallSid: newCallSid(), To: DEMO_NUMBERS.dental, From: CALLER, Direction: 'inbound' });
    expect(refused.body).toContain('<Reject reason="busy"/>');
    client.stop(callSid);
    await client.closed;
    await app.callEnded(callSid);

    // The guard on real statements: a violation that spends a zero budget, and one the escape hatch allows.
    const live = startLiveCall({ callSid: newCallSid(), tenantId: TENANT_ID, ioBudgetMs: 0 });
    await live.run(async () => {
      await app.db.knex.raw('select 1');
      await allowDatabaseDuringLiveCall('dashboard test', () => app.db.knex.raw('select 2'));
    });
    live.end();

    const response = await fetch(`${app.server.url}/metrics`);
    expect(response.status).toBe(200);
    text = await response.text();
    samples = samplesOf(text);
  });

  afterAll(async () => {
    await app?.stop();
    await model?.close();
  });

  it('every metric the dashboard queries is served, with the labels it groups by and matches', async () => {
    const dashboard = JSON.parse(await fs.readFile(path.join(ROOT, 'docs/grafana-live-call-guard.json'), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.title, expr: target.expr })));
    expect(exprs.length).toBeGreaterThan(10);
    const served = new Set(samples.map((s) => s.name));
    for (const { panel, expr } of exprs) {
      const query = queryOf(expr);
      expect(query.metrics.length, expr).toBeGreaterThan(0);
      for (const name of query.metrics) expect(served, `${panel}: ${name} is not served`).toContain(name);
      const series = samples.filter((s) => query.metrics.includes(s.name));
      for (const label of query.labels) expect(series.some((s) => label in s.labels), `${panel}: no series of ${query.metrics.join(', ')} has label ${label}`).toBe(true);
      for (const [label, value] of query.matchers) {
        expect(series.some((s) => s.labels[label] === value), `${panel}: no series of ${query.metrics.join(', ')} has ${label}="${value}"`).toBe(true);
      }
    }
  });

  it('the call left each new metric with its bounded labels', () => {
    const has = (name: string, labels: Record<string, string> = {}): boolean =>
      samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(has('live_call_context_load_duration_count', { call_context_prefetched: 'true' })).toBe(true);
    expect(has('live_call_turn_duration_count', { realtime_turn_answered: 'true' })).toBe(true);
    expect(has('media_stream_calls_live')).toBe(true);
    expect(has('media_stream_refused_total', { door: 'twiml', reason: 'capacity' })).toBe(true);
    expect(has('live_call_journal_enqueue_duration_count', { live_call_journal_backend: 'local' })).toBe(true);
    expect(has('live_call_buffer_flush_duration_count', { call_flush_outcome: 'landed' })).toBe(true);
    expect(has('live_call_buffer_flush_statements_count')).toBe(true);
    expect(has('live_call_buffer_call_writes_count')).toBe(true);
    expect(has('live_call_io_violations_total', { live_call_io_kind: 'db', mode: 'report' })).toBe(true);
    expect(has('live_call_io_allowed_total', { live_call_io_kind: 'db' })).toBe(true);
    expect(has('live_call_io_budget_exceeded_total', { live_call_io_budget_scope: 'call' })).toBe(true);
    for (const name of ['live_call_context_load_duration', 'live_call_turn_duration', 'live_call_journal_enqueue_duration', 'live_call_buffer_flush_duration']) {
      expect(text).toContain(`# UNIT ${name} ms`);
    }
  });

  it('no metric carries a tenant id (or a call sid) as a label', () => {
    const labelNames = new Set(samples.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].filter((label) => /tenant|call_sid|stream_sid|conversation/.test(label))).toEqual([]);
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    expect(labelValues).not.toContain(TENANT_ID);
    expect(labelValues.filter((value) => value.startsWith('CA'))).toEqual([]);
    expect(text).not.toContain(TENANT_ID);
    expect(text).not.toContain(callSid);
  });
});
