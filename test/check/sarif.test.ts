import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTraces } from '../../src/check/check-traces.js';
import { formatSarif, frameLocation } from '../../src/check/sarif.js';
import { checkCommand } from '../../src/cli/check-command.js';
import { ROOT } from '../helpers/processes.js';
import { liveQueryLine } from './hostile-lines.js';

const schemaFile = path.join(ROOT, 'test/fixtures/sarif/sarif-schema-2.1.0.json');

let compiled: Promise<(data: unknown) => { valid: boolean; errors: unknown }> | undefined;
/** The official schema, compiled once. */
function validator(): Promise<(data: unknown) => { valid: boolean; errors: unknown }> {
  compiled ??= compile();
  return compiled;
}

async function compile(): Promise<(data: unknown) => { valid: boolean; errors: unknown }> {
  const schema = JSON.parse(await fs.readFile(schemaFile, 'utf8')) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  const validate = ajv.compile(schema);
  return (data) => ({ valid: validate(data) as boolean, errors: validate.errors });
}

interface SarifLog {
  version: string;
  runs: Array<{
    tool: { driver: { name: string; rules: Array<{ id: string }> } };
    results: Array<{
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn?: number } } }>;
    }>;
  }>;
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-sarif-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('check --sarif', () => {
  it('writes SARIF 2.1.0, valid against the official schema, one result per violation at its first application frame', async () => {
    const sarifFile = path.join(dir, 'app.sarif');
    const trace = path.join(ROOT, 'test/fixtures/traces/app-report.jsonl');
    const io = { stdout: new PassThrough(), stderr: new PassThrough() };
    // The fixture was recorded in /work/main: its frames are relative to that root.
    const code = await checkCommand([trace, '--sarif', sarifFile, '--source-root', '/work/main'], io, new PassThrough());
    expect(code).toBe(1);
    const log = JSON.parse(await fs.readFile(sarifFile, 'utf8')) as SarifLog;
    const { valid, errors } = (await validator())(log);
    expect(errors).toBeNull();
    expect(valid).toBe(true);
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0]!;
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual([
      'live-call-guard/db',
      'live-call-guard/http',
      'live-call-guard/redis',
      'live-call-guard/messaging',
      'live-call-guard/rpc',
    ]);
    expect(run.results).toHaveLength(1);
    const [result] = run.results;
    expect(result).toMatchObject({ ruleId: 'live-call-guard/db', ruleIndex: 0, level: 'error' });
    // The first application frame, not knex's.
    expect(result!.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'test/fixtures/call-with-live-query.ts', uriBaseId: '%SRCROOT%' },
      region: { startLine: 21, startColumn: 9 },
    });
  });

  it('rule ids per I/O kind on a foreign trace; a violation with no stack is located at its trace file line', async () => {
    const trace = path.join(ROOT, 'test/fixtures/foreign/pipecat-turns.json');
    const result = await checkTraces([trace], { windowSpans: ['turn'], allowHosts: ['api.openai.com'] });
    const log = JSON.parse(formatSarif(result, { sourceRoot: ROOT })) as SarifLog;
    expect((await validator())(log).valid).toBe(true);
    expect(log.runs[0]!.results.map((r) => r.ruleId).sort()).toEqual(['live-call-guard/http', 'live-call-guard/redis']);
    for (const r of log.runs[0]!.results) {
      expect(r.locations[0]!.physicalLocation).toEqual({
        artifactLocation: { uri: 'test/fixtures/foreign/pipecat-turns.json', uriBaseId: '%SRCROOT%' },
        region: { startLine: 1 },
      });
    }
  });

  it('neutralises control and bidi characters in messages', async () => {
    const file = path.join(dir, 'hostile.jsonl');
    await fs.writeFile(file, `${liveQueryLine({ query: 'SELECT 1 \u001b[31m\u202e::error::x', callSid: 'CA\n1' })}\n`);
    const log = formatSarif(await checkTraces([file]), { sourceRoot: dir });
    const parsed = JSON.parse(log) as SarifLog;
    const text = parsed.runs[0]!.results[0]!.message.text;
    expect(text).not.toMatch(/[\u0000-\u001f\u202e]/);
    expect(text).toContain('SELECT 1 \\x1b[31m\\u202e::error::x');
    expect((await validator())(parsed).valid).toBe(true);
  });

  it('reads the first application frame of a stack: node_modules, node: and anonymous frames skipped, file URLs read', () => {
    expect(
      frameLocation(
        ['at Client.query (/app/node_modules/pg/lib/client.js:1:2)', 'at new Promise (<anonymous>)', 'at process.processTicksAndRejections (node:internal/process/task_queues:95:5)', 'at bookSlot (file:///app/src/tools/book.ts:40:11)'].join('\n'),
      ),
    ).toEqual({ file: '/app/src/tools/book.ts', line: 40, column: 11 });
    expect(frameLocation(undefined)).toBeUndefined();
  });
});
