/**
 * Masks the password of a connection string so it can be logged:
 * `postgres://app:s3cret@db/x` → `postgres://app:***@db/x`.
 * Works on strings that are not valid URLs too (masks everything between
 * `://` and `@`'s password part), so even a malformed value never leaks.
 */
export function maskConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return connectionString.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}
