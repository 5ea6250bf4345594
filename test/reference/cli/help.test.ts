import { describe, expect, it } from 'vitest';
import { main } from '../../../reference/cli/main.js';
import { SERVE_USAGE, SIMULATE_SCENARIOS, SIMULATE_USAGE, USAGE } from '../../../reference/cli/usage.js';
import { SCENARIOS } from '../../../reference/sim/simulate.js';
import { RECEPTIONIST, spawnNode } from '../../helpers/processes.js';
import { captureCli, type CliOutcome } from '../../helpers/cli-output.js';

const run = (argv: string[]): Promise<CliOutcome> => captureCli((io) => main(argv, io));

describe('the reference app: --help', () => {
  it.each([
    [['--help'], USAGE],
    [[], USAGE],
    [['serve', '--help'], SERVE_USAGE],
    [['serve', '-h'], SERVE_USAGE],
    [['simulate', '--help'], SIMULATE_USAGE],
    [['simulate', '--calls', '3', '-h'], SIMULATE_USAGE],
  ])('%j prints its usage on stdout and returns 0', async (argv, usage) => {
    expect(await run(argv)).toEqual({ code: 0, stdout: usage, stderr: '' });
  });

  it('an unknown option of simulate is still an error (exit 2, with the usage)', async () => {
    const result = await run(['simulate', '--nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(SIMULATE_USAGE);
  });

  it('the simulator help names every scenario the simulator has', () => {
    expect(SIMULATE_SCENARIOS).toEqual(SCENARIOS);
  });

  it('"serve --help" exits 0 without starting a server or telemetry (a bad DATABASE_URL is never read)', async () => {
    const help = spawnNode([...RECEPTIONIST, 'serve', '--help'], { ...process.env, DATABASE_URL: 'not a url' });
    expect(await help.exited).toEqual({ code: 0, signal: null });
    expect(help.output()).toBe(SERVE_USAGE);
  });
});
