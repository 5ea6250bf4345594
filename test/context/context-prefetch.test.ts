import { describe, expect, it } from 'vitest';
import { ContextPrefetch, prefetchKey } from '../../src/context/context-prefetch.js';
import { ConfigError } from '../../src/errors.js';

const call = (callSid: string, parameters: Record<string, string> = { business_id: '1' }) => ({ callSid, streamSid: null, tenantId: 1, parameters });

/** A clock the test moves. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('ContextPrefetch', () => {
  it('hands a context over once: the second take finds nothing', async () => {
    const prefetch = new ContextPrefetch<string>();
    expect(prefetch.prefetch(call('CA1'), async () => 'context')).toBe('started');
    await expect(prefetch.take(call('CA1'))).resolves.toBe('context');
    expect(prefetch.take(call('CA1'))).toBeUndefined();
    expect(prefetch.stats()).toMatchObject({ started: 1, hits: 1, misses: 1, size: 0 });
  });

  it('is keyed by everything the stream token binds: another parameter value or call is a miss', () => {
    const prefetch = new ContextPrefetch<string>();
    prefetch.prefetch(call('CA1', { business_id: '1', lead_id: '7' }), async () => 'context');
    expect(prefetch.take(call('CA1', { business_id: '1', lead_id: '8' }))).toBeUndefined();
    expect(prefetch.take(call('CA2', { business_id: '1', lead_id: '7' }))).toBeUndefined();
    // Parameter order and the token do not matter.
    expect(prefetch.take(call('CA1', { token: 'v2.x', lead_id: '7', business_id: '1' }))).toBeDefined();
    expect(prefetchKey(call('CA1', { a: '1', b: '2' }))).toBe(prefetchKey(call('CA1', { b: '2', a: '1' })));
  });

  it('a retried webhook does not load again: the second prefetch of the same call is a duplicate', () => {
    const prefetch = new ContextPrefetch<string>();
    let loads = 0;
    const load = async () => `context ${++loads}`;
    expect(prefetch.prefetch(call('CA1'), load)).toBe('started');
    expect(prefetch.prefetch(call('CA1'), load)).toBe('duplicate');
    expect(loads).toBe(1);
    expect(prefetch.stats()).toMatchObject({ started: 1, duplicates: 1 });
  });

  it('entries expire after ttlMs unused, and are counted', () => {
    const time = clock();
    const prefetch = new ContextPrefetch<string>({ ttlMs: 1000, now: time.now });
    prefetch.prefetch(call('CA1'), async () => 'one');
    time.advance(500);
    prefetch.prefetch(call('CA2'), async () => 'two');
    time.advance(500);
    expect(prefetch.take(call('CA1'))).toBeUndefined();
    expect(prefetch.take(call('CA2'))).toBeDefined();
    expect(prefetch.stats()).toMatchObject({ expired: 1, hits: 1, misses: 1, size: 0 });
  });

  it('holds at most maxEntries: past the cap a prefetch is skipped and counted, and expired entries make room', () => {
    const time = clock();
    const prefetch = new ContextPrefetch<string>({ maxEntries: 2, ttlMs: 1000, now: time.now });
    expect(prefetch.prefetch(call('CA1'), async () => '1')).toBe('started');
    expect(prefetch.prefetch(call('CA2'), async () => '2')).toBe('started');
    expect(prefetch.prefetch(call('CA3'), async () => '3')).toBe('full');
    expect(prefetch.stats()).toMatchObject({ dropped: 1, size: 2 });
    expect(prefetch.take(call('CA3'))).toBeUndefined();
    time.advance(1000);
    expect(prefetch.prefetch(call('CA3'), async () => '3')).toBe('started');
    expect(prefetch.stats()).toMatchObject({ expired: 2, size: 1 });
  });

  it('a failed load is counted and forgotten (the stream then loads at start); a load that throws at once too', async () => {
    const prefetch = new ContextPrefetch<string>();
    prefetch.prefetch(call('CA1'), async () => {
      throw new Error('database down');
    });
    prefetch.prefetch(call('CA2'), () => {
      throw new Error('cannot build');
    });
    const taken = prefetch.take(call('CA2'));
    await expect(taken).rejects.toThrow('cannot build');
    await Promise.resolve();
    expect(prefetch.take(call('CA1'))).toBeUndefined();
    expect(prefetch.stats()).toMatchObject({ failed: 2, size: 0 });
  });

  it('a take while the load runs gets the load under way (no second load)', async () => {
    const prefetch = new ContextPrefetch<string>();
    let finish!: (value: string) => void;
    prefetch.prefetch(call('CA1'), () => new Promise((resolve) => (finish = resolve)));
    const taken = prefetch.take(call('CA1'));
    finish('late context');
    await expect(taken).resolves.toBe('late context');
  });

  it.each([
    [{ ttlMs: 0 }, /ttlMs must be a positive integer \(received 0\)/],
    [{ maxEntries: -1 }, /maxEntries must be a whole number >= 0 \(received -1\)/],
  ])('refuses bad options %j naming them', (options, message) => {
    expect(() => new ContextPrefetch(options)).toThrow(ConfigError);
    expect(() => new ContextPrefetch(options)).toThrow(message);
  });
});
