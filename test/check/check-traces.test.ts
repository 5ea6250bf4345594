import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkCommand } from '../../src/cli/check-command.js';
import { checkTraces } from '../../src/check/check-traces.js';
import { checkExitCode } from '../../src/check/format.js';
import { ROOT, spawnNode } from '../helpers/processes.js';

const fixture = (name: string): string => path.join(ROOT, 'test/fixtures/traces', name);

async function run(args: string[], stdin = new PassThrough()): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: new PassThrough().on('data', (c: Buffer) => (stdout += c.toString())),
    stderr: new PassThrough().on('data', (c: Buffer) => (stderr += c.toString())),
  };
  const code = await checkCommand(args, io, stdin);
  return { code, stdout, stderr };
}

describe('checkTraces on traces written by the real app', () => {
  it('finds the live query of a report-mode call, with its query text and call site', async () => {
    const result = await checkTraces([fixture('app-report.jsonl')]);
    expect(result.violations).toEqual([
      expect.objectContaining({
        callSid: 'CA-fixture-report',
        query: 'select 2 as live_query',
        blocked: false,
        spanName: expect.stringContaining('pg.query'),
        stack: expect.stringContaining('call-with-live-query.ts'),
      }),
    ]);
    expect(checkExitCode(result)).toBe(1);
  });

  it('finds the blocked query of a block-mode call from its event alone', async () => {
    const result = await checkTraces([fixture('app-block.jsonl')]);
    expect(result.violations).toEqual([expect.objectContaining({ callSid: 'CA-fixture-block', blocked: true })]);
  });

  it('passes a clean call: its load and flush queries are not violations', async () => {
    const result = await checkTraces([fixture('app-clean.jsonl')]);
    expect(result.violations).toEqual([]);
    expect(result.spans).toBeGreaterThan(5);
    expect(checkExitCode(result)).toBe(0);
  });
});

describe('checkTraces on hand-built edge cases', () => {
  it('joins a trace split across lines', async () => {
    const result = await checkTraces([fixture('otlp-split-lines.jsonl')]);
    expect(result.violations).toEqual([
      expect.objectContaining({ callSid: 'CA-split', query: 'select * from leads where id = $1', source: { file: fixture('otlp-split-lines.jsonl'), line: 1 } }),
    ]);
  });

  it('joins a trace split across files', async () => {
    const result = await checkTraces([fixture('otlp-split-a.jsonl'), fixture('otlp-split-b.jsonl')]);
    expect(result.violations.map((v) => v.callSid)).toEqual(['CA-split']);
    expect(result.traces).toBe(1);
  });

  it('reads a whole OTLP document with instrumentationLibrarySpans: allowed, connect and outside spans pass; stamped and blocked ones fail', async () => {
    const result = await checkTraces([fixture('otlp-edge-cases.json')]);
    const byQuery = Object.fromEntries(result.violations.map((v) => [v.query, v]));
    expect(Object.keys(byQuery).sort()).toEqual(['insert into appointments', 'pg.query:UPDATE app', 'select 1']);
    expect(byQuery['insert into appointments']!.callSid).toBe('CA-stamped');
    expect(byQuery['pg.query:UPDATE app']).toMatchObject({ blocked: true, callSid: 'CA-blocked', stack: 'at handler (src/agent.ts:9:5)' });
    expect(byQuery['select 1']!.callSid).toBe('CA-edge');
  });

  it('reads base64 ids as the protobuf JSON mapping writes them', async () => {
    const result = await checkTraces([fixture('otlp-base64-ids.jsonl')]);
    expect(result.violations).toEqual([
      expect.objectContaining({ traceId: '1234567890abcdef1234567890abcdef', spanId: 'c000000000000003', query: 'select b64' }),
    ]);
  });

  it('reads a Jaeger UI download: CHILD_OF is the parent, FOLLOWS_FROM is not, 64-bit ids are padded', async () => {
    const result = await checkTraces([fixture('jaeger-ui-download.json')]);
    expect(result.violations).toEqual([
      expect.objectContaining({
        traceId: '000000000000000000f067aa0ba902b7',
        callSid: 'CA-jaeger',
        query: 'select * from business_settings',
        stack: 'at onMedia (src/agent.ts:42:7)',
      }),
    ]);
  });

  it('still reports what a half-broken file holds, and lists what it skipped with file:line', async () => {
    const file = fixture('otlp-half-broken.jsonl');
    const result = await checkTraces([file]);
    expect(result.violations.map((v) => v.callSid)).toEqual(['CA-split']);
    expect(result.skipped).toEqual([
      expect.objectContaining({ file, line: 2, column: expect.any(Number), reason: expect.stringMatching(/^not JSON/) }),
      { file, line: 3, reason: expect.stringMatching(/^a span without valid ids/) },
      { file, line: 4, reason: expect.stringMatching(/^not a known trace format/) },
    ]);
    expect(checkExitCode(result)).toBe(1);
  });
});

describe('live-call-guard check (CLI)', () => {
  it('exits 0 on clean traces, 1 on violations, 2 on unreadable input', async () => {
    expect((await run([fixture('app-clean.jsonl')])).code).toBe(0);
    expect((await run([fixture('app-report.jsonl')])).code).toBe(1);
    const notJson = await run([fixture('not-json.txt')]);
    expect(notJson.code).toBe(2);
    expect(notJson.stdout).toContain(`${fixture('not-json.txt')}:1:1: not JSON`);
    const missing = await run(['/nonexistent/traces.jsonl']);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain('/nonexistent/traces.jsonl:0: cannot be read');
  });

  it('prints a report that reads well in a CI log', async () => {
    const { stdout } = await run([fixture('app-report.jsonl')]);
    expect(stdout).toMatch(/^live-call-guard check: FAIL — 1 database query during live calls \(1 live call judged; 1 trace, \d+ spans, 1 file\)/);
    expect(stdout).toContain('call CA-fixture-report');
    expect(stdout).toContain('query: select 2 as live_query');
    expect(stdout).toContain('call-with-live-query.ts');
  });

  it('prints stable JSON with --format json', async () => {
    const { stdout, code } = await run(['--format', 'json', fixture('app-block.jsonl')]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      version: 1,
      ok: false,
      violations: [expect.objectContaining({ callSid: 'CA-fixture-block', blocked: true, file: fixture('app-block.jsonl') })],
      skipped: [],
      stats: expect.objectContaining({ files: 1, traces: 1, calls: 1 }),
    });
  });

  it('reads stdin for -', async () => {
    const stdin = new PassThrough();
    stdin.end(await fs.readFile(fixture('app-clean.jsonl')));
    expect((await run(['-'], stdin)).code).toBe(0);
  });

  it('--allow-no-calls and --expect-calls N', async () => {
    const noCall = fixture('app-clean.jsonl');
    expect((await run([fixture('app-clean.jsonl'), '--expect-calls', '2'])).code).toBe(2);
    expect((await run([fixture('app-clean.jsonl'), '--expect-calls', '1'])).code).toBe(0);
    expect(await run(['--expect-calls', 'x', noCall])).toMatchObject({ code: 2, stderr: expect.stringContaining('--expect-calls must be a positive integer') });
    const stdin = new PassThrough();
    stdin.end(`${JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '1'.repeat(32), spanId: '2'.repeat(16), name: 'GET /' }] }] }] })}\n`);
    const none = await run(['-'], stdin);
    expect(none).toMatchObject({ code: 2, stdout: expect.stringContaining('no live call in the input') });
    const allowed = new PassThrough();
    allowed.end(`${JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '1'.repeat(32), spanId: '2'.repeat(16), name: 'GET /' }] }] }] })}\n`);
    expect((await run(['--allow-no-calls', '-'], allowed)).code).toBe(0);
    const empty = new PassThrough();
    empty.end('');
    expect(await run(['-'], empty)).toMatchObject({ code: 2, stdout: expect.stringContaining('no spans read') });
  });

  it('rejects a bad --format and a missing FILE with exit 2', async () => {
    expect(await run(['--format', 'xml', 'x'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--format must be text or json (received "xml")') });
    expect(await run([])).toMatchObject({ code: 2, stderr: expect.stringContaining('no FILE given') });
  });

  it('sets the exit code through the real bin', async () => {
    const child = spawnNode(['bin/live-call-guard.js', 'check', fixture('app-report.jsonl')]);
    expect((await child.exited).code).toBe(1);
    expect(child.output()).toContain('FAIL');
  });
});
