/** Every database the suite creates starts with this, so it can clean them up. */
export const TEST_DATABASE_PREFIX = 'lcg_test_';

/** `url` with its database replaced by `name`. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}
