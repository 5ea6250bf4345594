import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { CHECK_USAGE, USAGE } from '../../src/cli/usage.js';
import { ROOT, spawnNode } from '../helpers/processes.js';
import { captureCli, type CliOutcome } from '../helpers/cli-output.js';

const VERSION = (JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string }).version;

const run = (argv: string[]): Promise<CliOutcome> => captureCli((io) => main(argv, io));

describe('live-call-guard --help and --version', () => {
  it.each([
    [['--help'], USAGE],
    [['help'], USAGE],
    [[], USAGE],
    [['check', '--help'], CHECK_USAGE],
    [['check', '-h'], CHECK_USAGE],
  ])('%j prints its usage on stdout and returns 0', async (argv, usage) => {
    expect(await run(argv)).toEqual({ code: 0, stdout: usage, stderr: '' });
  });

  it('--version prints the version in package.json', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('the reference app\'s commands are not the package\'s: "serve" is unknown (exit 2, with the usage)', async () => {
    const result = await run(['serve']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "serve"');
    expect(result.stderr).toContain(USAGE);
  });

  it('the bin: --version and "check --help" exit 0', async () => {
    const version = spawnNode(['bin/live-call-guard.js', '--version']);
    expect(await version.exited).toEqual({ code: 0, signal: null });
    expect(version.output()).toBe(`${VERSION}\n`);
    const help = spawnNode(['bin/live-call-guard.js', 'check', '--help']);
    expect(await help.exited).toEqual({ code: 0, signal: null });
    expect(help.output()).toBe(CHECK_USAGE);
  });
});
