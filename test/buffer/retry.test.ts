import { describe, expect, it } from 'vitest';
import { backoffDelayMs, isTransientError } from '../../src/buffer/retry.js';
import { InvalidWriteError, TenantMismatchError } from '../../src/errors.js';

function pgError(code: string): Error {
  return Object.assign(new Error(`pg ${code}`), { code });
}

describe('isTransientError', () => {
  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })],
    ['connection reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['both addresses refused', new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'x')],
    ['pg connection terminated', new Error('Connection terminated unexpectedly')],
    ['admin shutdown', pgError('57P01')],
    ['starting up', pgError('57P03')],
    ['crash shutdown', pgError('57P02')],
    ['read-only transaction (a failover to a standby)', pgError('25006')],
    ['serialization failure', pgError('40001')],
    ['deadlock', pgError('40P01')],
    ['statement timeout', pgError('57014')],
    ['connection exception class', pgError('08006')],
    ['too many connections', pgError('53300')],
    ['knex acquire timeout', Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' })],
    ['wrapped in a cause', new Error('flush failed', { cause: pgError('40001') })],
  ])('%s is transient', (_name, error) => {
    expect(isTransientError(error)).toBe(true);
  });

  it.each([
    ['unique violation', pgError('23505')],
    ['foreign key violation', pgError('23503')],
    ['check violation', pgError('23514')],
    ['invalid text representation', pgError('22P02')],
    ['undefined column', pgError('42703')],
    ['no unique index for on conflict', pgError('42P10')],
    ['another invalid transaction state', pgError('25001')],
    ['tenant mismatch', new TenantMismatchError('lead 3 is not one of business 1')],
    ['an invalid write', new InvalidWriteError('invalid createAppointment: title is required')],
    ['a bug', new TypeError('x is not a function')],
    ['not an error', 'boom'],
  ])('%s is permanent', (_name, error) => {
    expect(isTransientError(error)).toBe(false);
  });
});

describe('backoffDelayMs', () => {
  it('doubles from the initial delay, within [half, full] of it', () => {
    expect(backoffDelayMs(0, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelayMs(0, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelayMs(3, 100, 10_000, () => 1)).toBe(800);
  });

  it('is capped', () => {
    expect(backoffDelayMs(40, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelayMs(1000, 100, 10_000, () => 0)).toBe(5_000);
  });
});
