import { metrics } from '@opentelemetry/api';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createKnex } from '../../reference/db/knex.js';
import { createAppServer } from '../../reference/http-server.js';

describe('the reference app serves /metrics', () => {
  it('GET /metrics is Prometheus text from the OTel Prometheus exporter the SDK reads into', async () => {
    // The test SDK is given the reader register.ts gives it (test/setup/telemetry.ts).
    metrics.getMeter('live-call-guard').createCounter('lcg_test.metrics_endpoint').add(2, { 'live_call.io.kind': 'http', mode: 'report' });
    // /metrics never touches the database: a knex that could not connect is enough.
    const knex = createKnex('postgres://nobody@127.0.0.1:1/none');
    const server = createAppServer({ knex, logger: pino({ level: 'silent' }) });
    try {
      const { port } = await server.listen(0, '127.0.0.1');
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text, text).toMatch(/^lcg_test_metrics_endpoint_total\{live_call_io_kind="http",mode="report"(,[^}]*)?\} 2/m);
    } finally {
      await server.close();
      await knex.destroy();
    }
  });
});
