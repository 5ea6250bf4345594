import { DEFAULTS } from '../defaults.js';
import { ConfigError } from '../errors.js';
import type { StartOfCall } from './call-context-spec.js';

export interface ContextPrefetchOptions {
  /** How long a loaded context waits for its stream's `start`. Default 30 000 ms (`DEFAULTS.prefetchTtlMs`). */
  ttlMs?: number;
  /** Entries kept at once; past it a prefetch is skipped (the stream loads at `start`) and counted. Default 1 000. */
  maxEntries?: number;
  /** The clock (tests). Default `Date.now`. */
  now?: () => number;
}

/** What `prefetch` did: started a load, found one already started for this call (a retried webhook), or skipped it (full). */
export type PrefetchOutcome = 'started' | 'duplicate' | 'full';

export interface ContextPrefetchStats {
  /** Loads started at the webhook. */
  readonly started: number;
  /** Prefetches of a call already prefetched (a retried webhook): not loaded again. */
  readonly duplicates: number;
  /** Prefetches skipped because `maxEntries` were waiting. */
  readonly dropped: number;
  /** Streams that started with a prefetched context (no load at `start`). */
  readonly hits: number;
  /** Streams that found nothing prefetched here (another process, a restart, no webhook prefetch). */
  readonly misses: number;
  /** Entries dropped unused after `ttlMs`. */
  readonly expired: number;
  /** Prefetch loads that failed (the stream loads at `start`). */
  readonly failed: number;
  /** Entries held now. */
  readonly size: number;
}

interface Entry<T> {
  readonly context: Promise<T>;
  readonly expiresAt: number;
}

/**
 * The contexts loaded when the webhook answered, waiting for their stream's
 * `start` in this process: a bounded map (entries expire after `ttlMs`, at
 * most `maxEntries`), keyed by what the stream token binds — the call sid,
 * the tenant and every stream parameter — so a `start` whose token checked
 * out finds exactly what its webhook loaded. Each entry is taken once.
 * No timer: expired entries are dropped as the map is used (oldest first).
 */
export class ContextPrefetch<T = unknown> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private counts = { started: 0, duplicates: 0, dropped: 0, hits: 0, misses: 0, expired: 0, failed: 0 };

  constructor(options: ContextPrefetchOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULTS.prefetchTtlMs;
    this.maxEntries = options.maxEntries ?? DEFAULTS.prefetchMaxEntries;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.ttlMs) || this.ttlMs <= 0) throw new ConfigError(`prefetch ttlMs must be a positive integer (received ${JSON.stringify(options.ttlMs)})`);
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 0) {
      throw new ConfigError(`prefetch maxEntries must be a whole number >= 0 (received ${JSON.stringify(options.maxEntries)})`);
    }
  }

  /**
   * Starts `load` for this call unless one is held already (a retried
   * webhook) or the map is full. Never rejects: a failed load is counted and
   * forgotten, and the stream loads at `start`.
   */
  prefetch(start: StartOfCall, load: () => Promise<T>): PrefetchOutcome {
    this.sweep();
    const key = prefetchKey(start);
    if (this.entries.has(key)) {
      this.counts.duplicates += 1;
      return 'duplicate';
    }
    if (this.entries.size >= this.maxEntries) {
      this.counts.dropped += 1;
      return 'full';
    }
    let context: Promise<T>;
    try {
      context = load();
    } catch (error) {
      context = Promise.reject(error);
    }
    const entry: Entry<T> = { context, expiresAt: this.now() + this.ttlMs };
    this.entries.set(key, entry);
    this.counts.started += 1;
    context.catch(() => {
      this.counts.failed += 1;
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return 'started';
  }

  /**
   * The context prefetched for this call (settled or still loading), removed
   * from the map; undefined when none is held (or it expired). A rejected
   * promise means the load failed: load at `start` instead.
   */
  take(start: StartOfCall): Promise<T> | undefined {
    this.sweep();
    const key = prefetchKey(start);
    const entry = this.entries.get(key);
    if (!entry) {
      this.counts.misses += 1;
      return undefined;
    }
    this.entries.delete(key);
    this.counts.hits += 1;
    return entry.context;
  }

  /** Resolves when this call's prefetched load settles (at once if none is held). Never rejects. */
  settled(start: StartOfCall): Promise<void> {
    const entry = this.entries.get(prefetchKey(start));
    return entry ? entry.context.then(noop, noop) : Promise.resolve();
  }

  stats(): ContextPrefetchStats {
    this.sweep();
    return { ...this.counts, size: this.entries.size };
  }

  /** Drops expired entries: the map is in insertion order, and every entry lives `ttlMs`, so they are at its front. */
  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(key);
      this.counts.expired += 1;
    }
  }
}

/** What the stream token binds, as one string: the call sid, the tenant, the parameters sorted by name (the token left out). */
export function prefetchKey(start: Pick<StartOfCall, 'callSid' | 'tenantId' | 'parameters'>): string {
  const parameters = Object.entries(start.parameters)
    .filter(([name]) => name !== 'token')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([start.callSid, String(start.tenantId), parameters]);
}

function noop(): void {}
