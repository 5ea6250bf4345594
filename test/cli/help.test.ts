import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { CHECK_USAGE, SERVE_USAGE, SIMULATE_SCENARIOS, SIMULATE_USAGE, USAGE } from '../../src/cli/usage.js';
import { SCENARIOS } from '../../src/sim/simulate.js';
import { ROOT, spawnNode } from '../helpers/processes.js';

const VERSION = (JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string }).version;

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await main(argv, { stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe('live-call-guard --help and --version', () => {
  it.each([
    [['--help'], USAGE],
    [['help'], USAGE],
    [[], USAGE],
    [['serve', '--help'], SERVE_USAGE],
    [['serve', '-h'], SERVE_USAGE],
    [['check', '--help'], CHECK_USAGE],
    [['simulate', '--help'], SIMULATE_USAGE],
    [['simulate', '--calls', '3', '-h'], SIMULATE_USAGE],
  ])('%j prints its usage on stdout and returns 0', async (argv, usage) => {
    expect(await run(argv)).toEqual({ code: 0, stdout: usage, stderr: '' });
  });

  it('--version prints the version in package.json', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('an unknown option of simulate is still an error (exit 2, with the usage)', async () => {
    const result = await run(['simulate', '--nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(SIMULATE_USAGE);
  });

  it('the simulator help names every scenario the simulator has', () => {
    expect(SIMULATE_SCENARIOS).toEqual(SCENARIOS);
  });

  it('the bin: --version and "serve --help" exit 0 without starting a server or telemetry', async () => {
    const version = spawnNode(['bin/live-call-guard.js', '--version']);
    expect(await version.exited).toEqual({ code: 0, signal: null });
    expect(version.output()).toBe(`${VERSION}\n`);
    const help = spawnNode(['bin/live-call-guard.js', 'serve', '--help'], { ...process.env, DATABASE_URL: 'not a url' });
    expect(await help.exited).toEqual({ code: 0, signal: null });
    expect(help.output()).toBe(SERVE_USAGE);
  });
});
