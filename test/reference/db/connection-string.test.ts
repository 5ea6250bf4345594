import { describe, expect, it } from 'vitest';
import { maskConnectionString } from '../../../reference/db/connection-string.js';

describe('maskConnectionString', () => {
  it('masks the password of a URL', () => {
    expect(maskConnectionString('postgres://app:s3cret@db:5432/calls')).toBe('postgres://app:***@db:5432/calls');
  });

  it('leaves a URL without password as it is', () => {
    expect(maskConnectionString('postgres://app@db/calls')).toBe('postgres://app@db/calls');
  });

  it('masks a password in a string that is not a valid URL', () => {
    expect(maskConnectionString('postgres://app:s3cret@')).not.toContain('s3cret');
    expect(maskConnectionString('postgres://app:s3 cret@db:bad/x')).toBe('postgres://***@db:bad/x');
    expect(maskConnectionString('not a url:s3cret@host')).toBe('***@host');
  });
});
