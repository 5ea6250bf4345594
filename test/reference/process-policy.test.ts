import { describe, expect, it } from 'vitest';
import { spawnNode } from '../helpers/processes.js';

/** A process with the serving policy installed, then a rejection nobody handles, then an exception nobody catches. */
const CHILD = `
import pino from 'pino';
import { installProcessPolicy } from './reference/process-policy.ts';
const logger = pino({ level: 'info' });
installProcessPolicy({
  logger,
  drainDeadlineMs: 5000,
  drain: async () => { console.log('DRAINED'); },
});
Promise.reject(new Error('a floating rejection'));
setTimeout(() => {
  console.log('STILL SERVING');
  setTimeout(() => { throw new Error('an uncaught exception'); }, 10);
}, 50);
`;

describe('process policy', () => {
  it('an unhandled rejection is logged and the process keeps serving; an uncaught exception drains, then exits 1', async () => {
    const child = spawnNode(['--import', 'tsx', '--input-type=module', '-e', CHILD]);
    const exit = await child.exited;
    const output = child.output();
    expect(output).toMatch(/unhandled promise rejection.*keeps serving/);
    expect(output).toContain('a floating rejection');
    expect(output.indexOf('STILL SERVING')).toBeGreaterThan(-1);
    expect(output).toMatch(/uncaught exception: draining, then exiting 1/);
    expect(output.indexOf('DRAINED')).toBeGreaterThan(output.indexOf('STILL SERVING'));
    expect(exit).toEqual({ code: 1, signal: null });
  });
});
