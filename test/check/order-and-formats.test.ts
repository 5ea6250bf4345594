import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTraces } from '../../src/check/check-traces.js';
import { checkVerdict } from '../../src/check/format.js';
import { ROOT } from '../helpers/processes.js';

const fixture = (name: string): string => path.join(ROOT, 'test/fixtures/traces', name);

interface OtlpSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
}
interface OtlpDoc {
  resourceSpans: Array<{ resource?: unknown; scopeSpans: Array<{ scope?: unknown; spans: OtlpSpan[] }> }>;
}

/** One OTLP line per span, keeping each span's resource and scope. */
async function spanLines(file: string): Promise<Array<{ span: OtlpSpan; line: string }>> {
  const out: Array<{ span: OtlpSpan; line: string }> = [];
  for (const text of (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean)) {
    const doc = JSON.parse(text) as OtlpDoc;
    for (const resource of doc.resourceSpans) {
      for (const scope of resource.scopeSpans) {
        for (const span of scope.spans) {
          const line = JSON.stringify({ resourceSpans: [{ resource: resource.resource, scopeSpans: [{ scope: scope.scope, spans: [span] }] }] });
          out.push({ span, line });
        }
      }
    }
  }
  return out;
}

let dir: string;
let n = 0;
async function write(lines: string[]): Promise<string> {
  n += 1;
  const file = path.join(dir, `input-${n}.jsonl`);
  await fs.writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** The violations as comparable keys. */
async function verdict(files: string[]): Promise<{ code: number; violations: string[]; calls: number; duplicates: number }> {
  const result = await checkTraces(files);
  return {
    code: checkVerdict(result).code,
    violations: result.violations.map((v) => `${v.callSid}|${v.spanId}|${v.query}`).sort(),
    calls: result.calls,
    duplicates: result.duplicates,
  };
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-order-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('check is exact whatever the order of lines and files', () => {
  it('a late child (the db span after its in_live_call parent and the root) still finds its live ancestor', async () => {
    const spans = await spanLines(fixture('app-report.jsonl'));
    const expected = await verdict([fixture('app-report.jsonl')]);
    expect(expected.violations).toHaveLength(1);
    const isDb = (s: OtlpSpan): boolean => s.name.startsWith('pg.');
    const lateDb = [...spans.filter((s) => !isDb(s.span)), ...spans.filter((s) => isDb(s.span))].map((s) => s.line);
    const rootFirst = [...spans].sort((a, b) => Number(a.span.parentSpanId !== undefined) - Number(b.span.parentSpanId !== undefined)).map((s) => s.line);
    const reversed = [...spans].reverse().map((s) => s.line);
    for (const order of [lateDb, rootFirst, reversed]) {
      expect(await verdict([await write(order)])).toEqual(expected);
    }
    // Across files: the root and the live span in one, the db span in a later one — both orders.
    const rootPart = await write(spans.filter((s) => !isDb(s.span)).map((s) => s.line));
    const dbPart = await write(spans.filter((s) => isDb(s.span)).map((s) => s.line));
    expect(await verdict([rootPart, dbPart])).toEqual(expected);
    expect(await verdict([dbPart, rootPart])).toEqual(expected);
  });

  it('the split fixtures give the same verdict a-then-b and b-then-a', async () => {
    const ab = await verdict([fixture('otlp-split-a.jsonl'), fixture('otlp-split-b.jsonl')]);
    const ba = await verdict([fixture('otlp-split-b.jsonl'), fixture('otlp-split-a.jsonl')]);
    expect(ab.violations).toHaveLength(1);
    expect(ba).toEqual(ab);
  });

  it('the same trace given twice is one violation, and the duplicates are counted', async () => {
    const once = await verdict([fixture('app-report.jsonl')]);
    const twice = await verdict([fixture('app-report.jsonl'), fixture('app-report.jsonl')]);
    expect(twice.violations).toEqual(once.violations);
    expect(twice.duplicates).toBeGreaterThan(0);
    // The same trace in two formats: still one.
    const both = await verdict([fixture('app-report.jsonl'), fixture('jaeger-v2-api-v3-trace.json')]);
    expect(both.violations).toEqual(once.violations);
  });
});

describe('formats', () => {
  it('reads a Jaeger v2 api_v3 GetTrace answer ({ result: { resourceSpans } })', async () => {
    expect(await verdict([fixture('jaeger-v2-api-v3-trace.json')])).toMatchObject({ code: 1, violations: [expect.stringContaining('CA-fixture-report')] });
  });

  it('reads a Jaeger v2 api_v3 FindTraces stream (one { result } per line)', async () => {
    const result = await checkTraces([fixture('jaeger-v2-find-traces.jsonl')]);
    expect(result.calls).toBe(2);
    expect(result.violations.map((v) => v.callSid)).toEqual(['CA-fixture-report']);
  });

  it('reads a bare Jaeger UI trace object ({ traceID, spans, processes })', async () => {
    const bare = await verdict([fixture('jaeger-ui-trace.json')]);
    const download = await verdict([fixture('jaeger-ui-download.json')]);
    expect(bare.violations).toHaveLength(1);
    expect(bare).toEqual(download);
  });

  it('says where a cut file was cut: line, column and byte', async () => {
    const file = fixture('otlp-cut.jsonl');
    const result = await checkTraces([file]);
    const size = (await fs.stat(file)).size;
    expect(result.skipped).toEqual([
      expect.objectContaining({ file, line: 2, column: 4038, byteOffset: size, reason: expect.stringMatching(/^cut: .* line 2, column 4038 \(byte \d+\)/) }),
    ]);
    expect(checkVerdict(result).code).toBe(2);
  });

  it('says where a cut one-document file was cut', async () => {
    const text = await fs.readFile(fixture('jaeger-v2-api-v3-trace.json'), 'utf8');
    const cut = path.join(dir, 'cut-document.json');
    await fs.writeFile(cut, text.slice(0, 500));
    const result = await checkTraces([cut]);
    const lines = text.slice(0, 500).split('\n');
    expect(result.skipped).toEqual([
      expect.objectContaining({ line: lines.length, column: lines.at(-1)!.length + 1, byteOffset: 500, reason: expect.stringMatching(/^cut:/) }),
    ]);
  });
});

describe('a gate that saw nothing says so', () => {
  it('zero spans: exit 2 "no spans read"', async () => {
    const empty = await write([]);
    const result = await checkTraces([empty]);
    expect(checkVerdict(result)).toEqual({ code: 2, problems: ['no spans read'] });
  });

  it('spans but no live call: exit 2, unless allowed', async () => {
    const spans = (await spanLines(fixture('app-clean.jsonl'))).filter((s) => s.span.name !== 'in_live_call');
    const result = await checkTraces([await write(spans.map((s) => s.line))]);
    expect(checkVerdict(result)).toEqual({ code: 2, problems: [expect.stringMatching(/^no live call in the input/)] });
    expect(checkVerdict(result, { allowNoCalls: true }).code).toBe(0);
  });

  it('--expect-calls N fails when fewer calls are seen', async () => {
    const result = await checkTraces([fixture('app-clean.jsonl')]);
    expect(result.calls).toBe(1);
    expect(checkVerdict(result, { expectCalls: 1 }).code).toBe(0);
    expect(checkVerdict(result, { expectCalls: 2 })).toEqual({ code: 2, problems: ['expected at least 2 live calls, judged 1'] });
  });
});
