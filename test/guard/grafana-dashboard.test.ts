import fs from 'node:fs/promises';
import path from 'node:path';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { afterEach, describe, expect, it } from 'vitest';
import { startLiveCall } from '../../src/guard/live-call.js';
import { ROOT } from '../helpers/processes.js';
import { testTelemetry } from '../helpers/telemetry.js';

const { guard, metrics } = testTelemetry();

afterEach(() => {
  guard.setAllowHosts([]);
});

/** The metric names a PromQL expression reads (identifiers followed by `{`, `[` or `)`, not functions or labels). */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const match of expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=[{[])/g)) names.add(match[1]!);
  return [...names];
}

describe('docs/grafana-live-call-guard.json', () => {
  it('every metric it queries exists in what the OTel Prometheus exporter serves, labels included, and no tenant id is a label', async () => {
    // Make every series the dashboard reads exist: a violation, an allowed request, a budget overrun, I/O timed.
    guard.setAllowHosts(['allowed.invalid']);
    const live = startLiveCall({ callSid: 'CA-dashboard', tenantId: 't-dash', ioBudgetMs: 0 });
    const { trace } = await import('@opentelemetry/api');
    const tracer = trace.getTracer('dashboard-test');
    live.run(() => {
      tracer.startSpan('pg.query:SELECT', { attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'select 1' } }).end();
      tracer.startSpan('GET', { kind: 2, attributes: { 'http.request.method': 'GET', 'url.full': 'https://allowed.invalid/x', 'server.address': 'allowed.invalid' } }).end();
    });
    live.end();
    await new Promise((resolve) => setImmediate(resolve));

    const text = new PrometheusSerializer().serialize(await metrics.collect().then((r) => r.resourceMetrics));
    const served = new Set([...text.matchAll(/^([a-z_][a-z0-9_]*)(?:\{|\s)/gm)].map((m) => m[1]!));
    const dashboard = JSON.parse(await fs.readFile(path.join(ROOT, 'docs/grafana-live-call-guard.json'), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const queried = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => metricNames(target.expr)));
    expect(queried.length).toBeGreaterThan(5);
    for (const name of queried) expect(served, `${name} is not served`).toContain(name);
    for (const label of ['live_call_io_kind', 'mode', 'call_phase', 'live_call_io_budget_scope']) expect(text).toContain(`${label}="`);
    expect(text).not.toMatch(/tenant/);
  });
});
