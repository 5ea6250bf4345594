/**
 * Masks the password of a connection string so it can be logged:
 * `postgres://app:s3cret@db/x` → `postgres://app:***@db/x`.
 * A string that is not a valid URL has everything before its last `@`
 * masked, so even a malformed value never leaks a password.
 */
export function maskConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    // Not a URL: hide whatever precedes the last '@' (user and password).
    return connectionString.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/i, (_match, scheme?: string) => `${scheme ?? ''}***@`);
  }
}
