import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportingProcessorsFromEnv } from '../../src/sdk/node-sdk.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { pgSpans } from '../helpers/spans.js';

describe('telemetry bootstrap', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('instruments pg loaded by knex: a query is a pg span in the active trace', async () => {
    const tracer = trace.getTracer('test');
    const traceId = await tracer.startActiveSpan('parent', async (span) => {
      await db.knex.raw('select 41 + 1 as answer');
      span.end();
      return span.spanContext().traceId;
    });
    const spans = pgSpans(traceId);
    expect(spans.map((span) => span.attributes['db.query.text'] ?? span.attributes['db.statement'])).toContain(
      'select 41 + 1 as answer',
    );
  });

  it('writes the trace and span ids of the active span on log lines', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ destination });
    const ids = trace.getTracer('test').startActiveSpan('logging', (span) => {
      logger.info({ password: 'hunter2' }, 'inside a span');
      span.end();
      return span.spanContext();
    });
    logger.info('outside');
    const [inside, outside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(inside).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId, password: '***' });
    expect(outside).not.toHaveProperty('trace_id');
  });

  it('chooses exporters from OTEL_* variables, none without a collector', () => {
    expect(exportingProcessorsFromEnv({})).toHaveLength(0);
    expect(exportingProcessorsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toHaveLength(1);
    expect(exportingProcessorsFromEnv({ OTEL_TRACES_EXPORTER: 'console,otlp' })).toHaveLength(2);
    expect(exportingProcessorsFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' })).toHaveLength(0);
    expect(() => exportingProcessorsFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(
      'OTEL_TRACES_EXPORTER must list otlp, console, none (received "zipkin")',
    );
  });
});
