import { MeterProvider } from '@opentelemetry/sdk-metrics';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createKnex } from '../../reference/db/knex.js';
import { createAppServer } from '../../reference/http-server.js';
import { prometheusReader } from '../../reference/metrics-endpoint.js';

describe('the reference app serves /metrics', () => {
  it('GET /metrics is Prometheus text from the OTel Prometheus exporter the SDK reads into', async () => {
    // The reader register.ts gives the SDK, on a provider of its own here (the test SDK is already started).
    const provider = new MeterProvider({ readers: [prometheusReader()] });
    provider.getMeter('live-call-guard').createCounter('live_call.io.violations').add(2, { 'live_call.io.kind': 'http', mode: 'report' });
    // /metrics never touches the database: a knex that could not connect is enough.
    const knex = createKnex('postgres://nobody@127.0.0.1:1/none');
    const server = createAppServer({ knex, logger: pino({ level: 'silent' }) });
    try {
      const { port } = await server.listen(0, '127.0.0.1');
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text, text).toMatch(/^live_call_io_violations_total\{live_call_io_kind="http",mode="report"(,[^}]*)?\} 2/m);
    } finally {
      await server.close();
      await knex.destroy();
      await provider.shutdown();
    }
  });
});
