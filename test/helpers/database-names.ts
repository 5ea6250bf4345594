/** Every database the suite creates starts with this, so it can clean them up. */
export const TEST_DATABASE_PREFIX = 'lcg_test_';

/**
 * `lcg_test_<run id>_<suffix>`: the run id is the pid of the vitest process
 * that made it, so leftovers of killed runs can be told from databases of a
 * run still going on the same server.
 */
export function testDatabaseName(runId: string, suffix: string): string {
  return `${TEST_DATABASE_PREFIX}${runId}_${suffix}`;
}

/** The run id in a test database name, if it is one. */
export function runIdOf(name: string): string | undefined {
  return name.startsWith(TEST_DATABASE_PREFIX) ? name.slice(TEST_DATABASE_PREFIX.length).split('_')[0] : undefined;
}

/** `url` with its database replaced by `name`. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}
