import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTraces } from '../../src/check/check-traces.js';
import { checkVerdict, formatText } from '../../src/check/format.js';
import { checkCommand } from '../../src/cli/check-command.js';
import { ROOT } from '../helpers/processes.js';
import { liveQueryLine } from './hostile-lines.js';

const fixture = (name: string): string => path.join(ROOT, 'test/fixtures/traces', name);

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-hostile-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('check on hostile input', () => {
  it('a zero-filled tail (64 MB, over a 1 MiB line limit) with no newline is skipped and reported, and the violation before it still fails the gate', async () => {
    const file = path.join(dir, 'crashed.jsonl');
    const line = `${liveQueryLine()}\n`;
    await fs.writeFile(file, line);
    // A sparse file: the tail reads as zeros and costs no disk. The 2 GB case: the system suite.
    await fs.truncate(file, 64 * 1024 ** 2);
    const result = await checkTraces([file], { maxLineBytes: 1024 ** 2 });
    expect(result.violations.map((v) => v.callSid)).toEqual(['CA-hostile']);
    expect(result.skipped).toEqual([
      expect.objectContaining({ file, line: 2, byteOffset: Buffer.byteLength(line), reason: expect.stringMatching(/^line too long: 6\d{7} bytes with no newline, over the limit of 1048576/) }),
    ]);
    expect(checkVerdict(result).code).toBe(1);
  });

  it('a line longer than --max-line-bytes is skipped and listed, and the next line is read (CLI)', async () => {
    const file = path.join(dir, 'long-line.jsonl');
    await fs.writeFile(file, `${'x'.repeat(5000)}\n${liveQueryLine()}\n`);
    let stdout = '';
    const io = { stdout: new PassThrough().on('data', (c: Buffer) => (stdout += c.toString())), stderr: new PassThrough() };
    const code = await checkCommand([file, '--max-line-bytes', '1000'], io, new PassThrough());
    expect(code).toBe(1);
    expect(stdout).toContain(`${file}:1:1: line too long: 5000 bytes with no newline, over the limit of 1000`);
    expect(stdout).toContain('call CA-hostile');
  });

  it('a line nested 10,000 levels deep is reported as that line skipped, and the rest of the file is read (exit 1, not 2)', async () => {
    const file = path.join(dir, 'deep.jsonl');
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const deepObject = `{"resourceSpans":[${'{"a":['.repeat(5_000)}${']}'.repeat(5_000)}]}`;
    await fs.writeFile(file, `${liveQueryLine({ traceByte: 'd', callSid: 'CA-first' })}\n${deep}\n${deepObject}\n${liveQueryLine()}\n`);
    const result = await checkTraces([file]);
    expect(result.violations.map((v) => v.callSid).sort()).toEqual(['CA-first', 'CA-hostile']);
    expect(result.skipped).toEqual([
      expect.objectContaining({ file, line: 2, reason: 'nested deeper than 256 levels of objects and arrays; skipped' }),
      expect.objectContaining({ file, line: 3, reason: 'nested deeper than 256 levels of objects and arrays; skipped' }),
    ]);
    expect(checkVerdict(result).code).toBe(1);
  });

  it('a deep first line does not stop the lines after it either', async () => {
    const file = path.join(dir, 'deep-first.jsonl');
    await fs.writeFile(file, `${'['.repeat(10_000)}\n${liveQueryLine()}\n`);
    const result = await checkTraces([file]);
    expect(result.violations.map((v) => v.callSid)).toEqual(['CA-hostile']);
    expect(result.skipped).toEqual([expect.objectContaining({ line: 1, reason: expect.stringMatching(/^nested deeper than 256/) })]);
  });

  it('a pretty-printed document (first line not a whole value) is still read as one document', async () => {
    const result = await checkTraces([fixture('otlp-edge-cases.json')]);
    expect(result.calls).toBeGreaterThan(0);
    expect(result.skippedCount).toBe(0);
  });

  it('the text report neutralises control and bidi characters: no ANSI escape, no line a trace starts (::error::)', async () => {
    const file = path.join(dir, 'control.jsonl');
    await fs.writeFile(
      file,
      `${liveQueryLine({
        spanName: 'pg.query\n::error file=app.ts::pwned\r\n',
        query: 'SELECT \u001b[2J\u001b[31mred\u001b[0m \u202egnp.exe\u202c',
        callSid: 'CA\u2028::warning::x\u0007',
      })}\n`,
    );
    const result = await checkTraces([file]);
    const text = formatText(result);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    for (const line of text.split('\n')) expect(line).not.toMatch(/^::/);
    expect(text).toContain('pg.query\\x0a::error file=app.ts::pwned\\x0d\\x0a');
    expect(text).toContain('SELECT \\x1b[2J\\x1b[31mred\\x1b[0m \\u202egnp.exe\\u202c');
    expect(text).toContain('call CA\\u2028::warning::x\\x07');
  });
});
