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
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
