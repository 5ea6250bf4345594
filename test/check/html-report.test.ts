import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTraceFile } from '../../bench/trace-file.js';
import { checkCommand } from '../../src/cli/check-command.js';
import { checkTraces } from '../../src/check/check-traces.js';
import { checkVerdict } from '../../src/check/format.js';
import { escapeHtml } from '../../src/check/html-escape.js';
import { selectCalls } from '../../src/check/report-selection.js';
import { writeHtmlReport } from '../../src/check/write-html-report.js';
import { ROOT } from '../helpers/processes.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-html-caps-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('the HTML report: caps', () => {
  it('draws violating calls first up to their cap, then clean ones; lists the next ones by id; counts the rest', async () => {
    const traces = path.join(dir, 'many.jsonl');
    const planted = await writeTraceFile(traces, 20_000); // 2000 calls, 20 with a live query
    const result = await checkTraces([traces]);
    const report = path.join(dir, 'many.html');
    const stats = await writeHtmlReport(report, [traces], result, checkVerdict(result), { maxViolationCalls: 5, maxCleanCalls: 3, maxListedCalls: 10 });
    expect(stats).toMatchObject({ callsDrawn: 8, callsListed: 10, callsNotListed: 2000 - 8 - 10 });

    const html = await fs.readFile(report, 'utf8');
    const sections = [...html.matchAll(/<section class="call (has-violations|clean)"/g)].map((m) => m[1]);
    expect(sections).toEqual([...Array(5).fill('has-violations'), ...Array(3).fill('clean')]);
    // The 15 violating calls past the cap are listed first, before clean ones.
    const listed = [...html.matchAll(/<li data-call data-violations="(\d+)"/g)].map((m) => Number(m[1]));
    expect(listed).toEqual(Array(10).fill(1));
    expect(html).toContain('… and 1,982 more calls, not listed.');
    expect(planted).toBe(20);
  });

  it('rejects a bad cap, naming it', () => {
    const result = { violations: [], liveCalls: [] } as unknown as Parameters<typeof selectCalls>[0];
    expect(() => selectCalls(result, { maxCleanCalls: -1 })).toThrow('maxCleanCalls must be a non-negative integer (received -1)');
  });
});

describe('the HTML report: input is untrusted', () => {
  it('escapes the five special characters and drops control characters', () => {
    expect(escapeHtml(`</script><img src=x onerror="a('b')">&\u0000\u001b`)).toBe(
      '&lt;/script&gt;&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;',
    );
  });
});

describe('check --html (CLI)', () => {
  it('reads stdin twice by saving it, and names it <stdin>', async () => {
    const report = path.join(dir, 'stdin.html');
    const stdin = new PassThrough();
    stdin.end(await fs.readFile(path.join(ROOT, 'test/fixtures/traces/app-report.jsonl')));
    let stdout = '';
    const io = { stdout: new PassThrough().on('data', (c: Buffer) => (stdout += c.toString())), stderr: new PassThrough() };
    expect(await checkCommand(['-', '--html', report], io, stdin)).toBe(1);
    expect(stdout).toContain('(<stdin>:1)');
    const html = await fs.readFile(report, 'utf8');
    expect(html).toContain('select 2 as live_query');
    expect(html).toContain('<code>&lt;stdin&gt;:1</code>');
    expect(html).not.toContain('lcg-check-');
  });

  it('a report that cannot be written: exit 2 on a clean input, with a message', async () => {
    let stderr = '';
    const io = { stdout: new PassThrough(), stderr: new PassThrough().on('data', (c: Buffer) => (stderr += c.toString())) };
    const code = await checkCommand([path.join(ROOT, 'test/fixtures/traces/app-clean.jsonl'), '--html', path.join(dir, 'missing-dir', 'r.html')], io);
    expect(code).toBe(2);
    expect(stderr).toContain('cannot write the HTML report');
  });
});
