import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { checkTraces } from '../../src/check/check-traces.js';
import { checkVerdict } from '../../src/check/format.js';
import { ROOT } from '../helpers/processes.js';
import { liveQueryLine } from './hostile-lines.js';

// Gigabyte inputs, and a process of its own (the real bin) with a small heap: what the reader holds is what must fit.
describe('check on hostile input (process)', () => {
  it('memory stays bounded when the first line does not parse: 192 MB of trace lines after it, read by a process with a 96 MB heap', async () => {
    const line = Buffer.from(`${liveQueryLine()}\n`);
    const lines = Math.ceil((192 * 1024 * 1024) / line.length);
    // Holding the lines after a broken first line (as before) ran out of this heap.
    const child = spawn(process.execPath, ['--max-old-space-size=96', 'bin/live-call-guard.js', 'check', '-'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const input = Readable.from(
      (function* () {
        yield Buffer.from('{"resourceSpans": [ broken\n');
        // A fresh buffer per line, as a file or a pipe gives them.
        for (let i = 0; i < lines; i += 1) yield Buffer.from(line);
      })(),
    );
    await pipeline(input, child.stdin).catch((error: unknown) => {
      throw new Error(`the check process stopped reading: ${(error as Error).message}\n${stderr}`);
    });
    expect(await exited, stderr).toBe(1);
    expect(stdout).toMatch(/^live-call-guard check: FAIL — 1 database query during live calls/);
    expect(stdout).toContain('<stdin>:1:1: not JSON');
    expect(stdout).toContain('skipped 1 unreadable part of the input');
  }, 180_000);


  it('a 2 GB zero-filled tail with no newline is skipped and reported, and the violation before it still fails the gate', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-hostile-'));
    const file = path.join(dir, 'crashed.jsonl');
    const line = `${liveQueryLine()}\n`;
    await fs.writeFile(file, line);
    // A sparse 2 GB file: the tail reads as zeros and costs no disk.
    await fs.truncate(file, 2 * 1024 ** 3);
    const result = await checkTraces([file]);
    expect(result.violations.map((v) => v.callSid)).toEqual(['CA-hostile']);
    expect(result.skipped).toEqual([
      expect.objectContaining({ file, line: 2, byteOffset: Buffer.byteLength(line), reason: expect.stringMatching(/^line too long: 2147\d+ bytes with no newline/) }),
    ]);
    expect(checkVerdict(result).code).toBe(1);
    await fs.rm(dir, { recursive: true, force: true });
  }, 300_000);

});
