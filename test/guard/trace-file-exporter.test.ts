import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { exportingProcessorsFromEnv } from '../../src/sdk/node-sdk.js';
import { TraceFileExporter } from '../../src/guard/trace-file-exporter.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { spawnNode } from '../helpers/processes.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  events?: Array<{ name: string; attributes: Array<{ key: string; value: Record<string, unknown> }> }>;
}

async function readSpans(file: string): Promise<OtlpSpan[]> {
  const lines = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
  return lines.flatMap((line) => {
    const request = JSON.parse(line) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
    return request.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  });
}

function attribute(span: OtlpSpan, key: string): unknown {
  const found = span.attributes.find((a) => a.key === key);
  return found ? Object.values(found.value)[0] : undefined;
}

describe('LIVE_CALL_TRACE_FILE', () => {
  let dir: string;
  let db: TestDatabase;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-traces-'));
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['report', 'ran'],
    ['block', 'ERR_LIVE_CALL_DB_ACCESS'],
  ])('writes a call as OTLP JSON lines, its live query marked (%s mode)', async (mode, outcome) => {
    const file = path.join(dir, `${mode}.jsonl`);
    const child = spawnNode(
      ['--import', 'tsx', '--import', './reference/register.ts', 'test/fixtures/call-with-live-query.ts', db.url, `CA-${mode}`],
      { ...process.env, LIVE_CALL_TRACE_FILE: file, LIVE_CALL_GUARD: mode, LOG_LEVEL: 'silent' },
    );
    const [line] = await child.waitForLine(/^\{.*\}$/);
    expect((await child.exited).code).toBe(0);
    const result = JSON.parse(line!) as { outcome: string; figures: { queries: Record<string, number> } };
    expect(result.outcome).toBe(outcome);
    expect(result.figures.queries).toEqual({ load: 1, live: mode === 'report' ? 1 : 0, flush: 3, other: 0 });

    const spans = await readSpans(file);
    const live = spans.find((s) => s.name === 'in_live_call')!;
    expect(attribute(live, 'live_call')).toBe(true);
    expect(attribute(live, 'call.sid')).toBe(`CA-${mode}`);
    expect(live.events?.map((e) => e.name)).toEqual(['live_call.db_violation']);
    expect(live.traceId).toMatch(/^[0-9a-f]{32}$/);

    const root = spans.find((s) => s.name === 'media_stream')!;
    expect(attribute(root, 'call.db.queries.load')).toBe(1);
    const violating = spans.filter((s) => attribute(s, 'live_call.violation') === true);
    if (mode === 'report') {
      expect(violating.map((s) => attribute(s, 'db.query.text'))).toEqual(['select 2 as live_query']);
      expect(violating[0]!.parentSpanId).toBe(live.spanId);
      expect(attribute(violating[0]!, 'live_call.id')).toBe('CA-report');
    } else {
      // A blocked query's span never ends, so it is not exported: the event on in_live_call tells.
      expect(violating).toEqual([]);
    }
  });

  it('adds a file exporter from the variable, and fails at start on a path it cannot open', async () => {
    const processors = exportingProcessorsFromEnv({ LIVE_CALL_TRACE_FILE: path.join(dir, 'env.jsonl') });
    expect(processors).toHaveLength(1);
    await Promise.all(processors.map((p) => p.shutdown()));
    await fs.writeFile(path.join(dir, 'not-a-dir'), '');
    expect(() => new TraceFileExporter(path.join(dir, 'not-a-dir', 'traces.jsonl'))).toThrow(ConfigError);
    expect(() => new TraceFileExporter(path.join(dir, 'not-a-dir', 'traces.jsonl'))).toThrow(/LIVE_CALL_TRACE_FILE/);
  });
});
