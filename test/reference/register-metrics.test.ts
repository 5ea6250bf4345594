import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricReadersFromEnv } from '../../src/sdk/node-sdk.js';
import { spawnNode } from '../helpers/processes.js';

/** Records a counter, prints its line of the Prometheus text /metrics serves, then shuts the SDK down (the OTLP reader's last export). */
const SCRIPT = `
import { metrics } from '@opentelemetry/api';
const { activeTelemetry } = await import('./src/sdk/index.ts');
const { prometheusReader } = await import('./reference/metrics-endpoint.ts');
const { PrometheusSerializer } = await import('@opentelemetry/exporter-prometheus');
metrics.getMeter('live-call-guard').createCounter('lcg_test.register_otlp').add(3);
const { resourceMetrics } = await prometheusReader().collect();
console.log(new PrometheusSerializer().serialize(resourceMetrics).split('\\n').find((line) => line.startsWith('lcg_test_register_otlp')));
await activeTelemetry().shutdown();
`;

describe('reference/register.ts: /metrics and the OTEL_* metric exporters', () => {
  let receiver: http.Server;
  let port = 0;
  const bodies: Array<{ url: string; type: string | undefined; body: Buffer }> = [];
  let resolveFirst!: () => void;
  const firstExport = new Promise<void>((resolve) => (resolveFirst = resolve));

  beforeAll(async () => {
    // An OTLP/HTTP receiver on port 0: what a collector would get.
    receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push({ url: request.url ?? '', type: request.headers['content-type'], body: Buffer.concat(chunks) });
        response.end();
        resolveFirst();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('with OTEL_METRICS_EXPORTER=otlp, metrics go to the collector AND stay on /metrics (the Prometheus reader)', async () => {
    const child = spawnNode(['--import', 'tsx', '--import', './reference/register.ts', '--input-type=module', '-e', SCRIPT], {
      ...process.env,
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${port}/v1/metrics`,
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      OTEL_TRACES_EXPORTER: 'none',
    });
    const served = await child.waitForLine(/^lcg_test_register_otlp_total\S* (\d+)$/);
    expect(served[1]).toBe('3');
    await firstExport;
    expect(await child.exited, child.output()).toEqual({ code: 0, signal: null });
    const exported = bodies.find((b) => b.body.includes('lcg_test.register_otlp'));
    expect(exported, `received: ${bodies.map((b) => b.url).join(', ')}`).toMatchObject({ url: '/v1/metrics', type: 'application/x-protobuf' });
  });

  it('metricReadersFromEnv: none without an exporter or endpoint; otlp, console; none wins; anything else is a config error', () => {
    expect(metricReadersFromEnv({})).toHaveLength(0);
    expect(metricReadersFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toHaveLength(1);
    expect(metricReadersFromEnv({ OTEL_METRICS_EXPORTER: 'otlp,console' })).toHaveLength(2);
    expect(metricReadersFromEnv({ OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' })).toHaveLength(0);
    expect(() => metricReadersFromEnv({ OTEL_METRICS_EXPORTER: 'prometheus' })).toThrow(
      'OTEL_METRICS_EXPORTER must list otlp, console, none when the app gives metric readers of its own (received "prometheus")',
    );
    expect(() => metricReadersFromEnv({ OTEL_METRICS_EXPORTER: 'console', OTEL_METRIC_EXPORT_INTERVAL: 'soon' })).toThrow('OTEL_METRIC_EXPORT_INTERVAL must be a positive whole number');
  });
});
