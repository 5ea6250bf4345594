import type { z } from 'zod';

/** Every problem as `path message`, joined by `; ` (e.g. `tenantId must be a positive integer`). */
export function describeZodError(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.');
      return path ? `${path} ${issue.message}` : issue.message;
    })
    .join('; ');
}
