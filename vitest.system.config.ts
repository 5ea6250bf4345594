import { defineConfig } from 'vitest/config';

/**
 * `npm run test:system`: whole processes and machines — chaos, the packed
 * tarball, the server's CLI, workers and drain, the CI recipe, a real browser.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.system.test.ts'],
    globalSetup: ['test/setup/global-setup.ts'],
    setupFiles: ['test/setup/telemetry.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
