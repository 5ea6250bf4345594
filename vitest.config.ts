import { defineConfig } from 'vitest/config';

/** `npm test`: the unit and integration suite on a real PostgreSQL. The system suite: vitest.system.config.ts. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/**/*.system.test.ts'],
    // One PostgreSQL for the run, a template database migrated once.
    globalSetup: ['test/setup/global-setup.ts'],
    // The OpenTelemetry SDK starts before anything loads pg.
    setupFiles: ['test/setup/telemetry.ts'],
    // forks: require-in-the-middle does not work under vmThreads.
    pool: 'forks',
    // Most of a test's time is spent waiting on PostgreSQL and sockets: 4 forks on 2 cores
    // ran the suite in 119 s instead of 166 s (standalone PostgreSQL, same tests).
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
