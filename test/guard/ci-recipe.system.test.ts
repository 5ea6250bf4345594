import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { ROOT, spawnNode } from '../helpers/processes.js';

/**
 * The README's CI recipe, as written: tests run with LIVE_CALL_TRACE_FILE,
 * then `live-call-guard check` on the file. The child vitest uses the
 * project's own test telemetry setup (test/setup/telemetry.ts).
 */
describe('CI recipe: LIVE_CALL_TRACE_FILE=traces.jsonl <tests>, then live-call-guard check traces.jsonl', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-ci-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function recipe(mode: 'violation' | 'clean'): Promise<{ code: number | null; output: string; bytes: number }> {
    const traces = path.join(dir, `${mode}.jsonl`);
    const env: NodeJS.ProcessEnv = { ...process.env, LIVE_CALL_TRACE_FILE: traces, DATABASE_URL: inject('databaseAdminUrl'), CI_RECIPE: mode };
    delete env.VITEST;
    delete env.VITEST_POOL_ID;
    delete env.VITEST_WORKER_ID;
    delete env.NODE_OPTIONS;
    const tests = spawnNode([path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/fixtures/ci-recipe/vitest.config.ts'], env);
    const ran = await tests.exited;
    expect(ran.code, tests.output()).toBe(0);
    const { size } = await fs.stat(traces);
    const check = spawnNode(['bin/live-call-guard.js', 'check', traces]);
    const checked = await check.exited;
    return { code: checked.code, output: check.output(), bytes: size };
  }

  it('fails the build (exit 1) when a test queries during a live call', async () => {
    const { code, output, bytes } = await recipe('violation');
    expect(bytes).toBeGreaterThan(0);
    expect(code, output).toBe(1);
    expect(output).toContain('call CA-ci-recipe');
    expect(output).toContain('query: select 2 as during_the_call');
    expect(output).toMatch(/call\.spec\.ts/);
  });

  it('passes (exit 0) a clean run, saying how many calls it judged', async () => {
    const { code, output } = await recipe('clean');
    expect(code, output).toBe(0);
    expect(output).toMatch(/^live-call-guard check: OK — .*\(1 live call judged;/);
  });
});

describe("LIVE_CALL_TRACE_FILE with an app's own NodeSDK (liveCallSpanProcessors)", () => {
  it.each([
    ['a live query', 'violation', 1],
    ['a clean call', 'clean', 0],
  ] as const)('writes the trace file; check judges %s', async (_label, mode, expected) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-own-sdk-'));
    try {
      const traces = path.join(dir, 'traces.jsonl');
      const app = spawnNode(['--import', 'tsx', 'test/fixtures/own-sdk-app.ts', inject('databaseAdminUrl'), mode], {
        ...process.env,
        LIVE_CALL_TRACE_FILE: traces,
      });
      expect((await app.exited).code, app.output()).toBe(0);
      const check = spawnNode(['bin/live-call-guard.js', 'check', traces]);
      expect((await check.exited).code, check.output()).toBe(expected);
      expect(check.output()).toContain('1 live call judged');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
