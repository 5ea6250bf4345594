import { describe, expect, it } from 'vitest';
import { nextRestart, WORKER_RESTART_POLICY, type RestartPolicy } from '../../reference/worker-restarts.js';

const policy: RestartPolicy = { maxRestarts: 3, windowMs: 60_000, initialDelayMs: 1_000, maxDelayMs: 1_500 };

describe('the workers restart policy', () => {
  it('replaces the first worker that dies at once, the next ones after a growing wait, up to the longest', () => {
    expect(nextRestart([], 0, policy)).toEqual({ delayMs: 0 });
    expect(nextRestart([0], 100, policy)).toEqual({ delayMs: 1_000 });
    expect(nextRestart([0, 1_100], 2_000, policy)).toEqual({ delayMs: 1_500 });
  });

  it('a crash loop spends the budget: past maxRestarts within the window a dead worker is not replaced', () => {
    expect(nextRestart([0, 1_000, 2_000], 3_000, policy)).toBeUndefined();
  });

  it('the budget is a sliding window: replacements older than it no longer count', () => {
    expect(nextRestart([0, 1_000, 2_000], 61_000, policy)).toEqual({ delayMs: 1_000 });
    expect(nextRestart([0, 1_000, 2_000], 62_001, policy)).toEqual({ delayMs: 0 });
  });

  it('the default: 5 replacements a minute, waits 0, 1, 2, 4, 8 s', () => {
    const restarts: number[] = [];
    const waits: number[] = [];
    for (let now = 0; ; now += 10) {
      const next = nextRestart(restarts, now);
      if (!next) break;
      waits.push(next.delayMs);
      restarts.push(now);
    }
    expect(waits).toEqual([0, 1_000, 2_000, 4_000, 8_000]);
    expect(WORKER_RESTART_POLICY).toMatchObject({ maxRestarts: 5, windowMs: 60_000 });
  });
});
