/**
 * When `serve --workers` replaces a worker that died: a restart budget with
 * backoff. A crash loop spends the budget and stops the replacing, never the
 * workers that still serve.
 */
export interface RestartPolicy {
  /** Replacements allowed within `windowMs`; past them a dead worker is not replaced. */
  readonly maxRestarts: number;
  /** The sliding window the budget counts replacements in. */
  readonly windowMs: number;
  /** Wait before the second replacement within the window (the first is at once); it doubles each time. */
  readonly initialDelayMs: number;
  /** Longest wait before a replacement. */
  readonly maxDelayMs: number;
}

/** The reference app's policy: 5 replacements a minute; the waits 0, 1, 2, 4, 8 s. */
export const WORKER_RESTART_POLICY: RestartPolicy = { maxRestarts: 5, windowMs: 60_000, initialDelayMs: 1_000, maxDelayMs: 8_000 };

/**
 * Whether a worker that died at `now` is replaced, and after how long.
 * `restarts`: the times of the replacements made so far.
 * @returns the wait before forking the replacement, or undefined: the budget is spent, no replacement.
 */
export function nextRestart(restarts: readonly number[], now: number, policy: RestartPolicy = WORKER_RESTART_POLICY): { delayMs: number } | undefined {
  const recent = restarts.filter((at) => now - at < policy.windowMs).length;
  if (recent >= policy.maxRestarts) return undefined;
  return { delayMs: recent === 0 ? 0 : Math.min(policy.initialDelayMs * 2 ** (recent - 1), policy.maxDelayMs) };
}
