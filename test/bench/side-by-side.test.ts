import { describe, expect, it } from 'vitest';
import { quartiles, windowRatios } from '../../bench/capacity/side-by-side.js';
import type { ProcSample } from '../../bench/capacity/proc-stats.js';

/** A sample of a process at `at` ms that has used `cpuSeconds` so far. */
const at = (ms: number, cpuSeconds: number): ProcSample => ({ at: ms, cpuSeconds, systemSeconds: 0, mainThreadSeconds: cpuSeconds, rssMb: 100, machineBusySeconds: 0 });

describe('capacity side by side: CPU over the floor, window by window', () => {
  it('divides each server by the floor in the same window, not over the whole run', () => {
    // The floor: 0.5 then 0.25 cores (the machine got busier in window 2); the layer 0.55 then 0.3.
    const floor = [at(0, 0), at(2000, 1), at(4000, 1.5)];
    const layer = [at(0, 0), at(2000, 1.1), at(4000, 1.7)];
    const { cores, ratios } = windowRatios([floor, layer]);
    expect(cores).toEqual([
      [0.5, 0.25],
      [0.55, 0.3],
    ]);
    expect(ratios[1]).toEqual([1.1, 1.2]);
    expect(ratios[0]).toEqual([1, 1]);
  });

  it('reads as many windows as the server sampled least, and leaves out a window the floor used no CPU in', () => {
    const floor = [at(0, 0), at(2000, 0), at(4000, 1), at(6000, 2)];
    const layer = [at(0, 0), at(2000, 1), at(4000, 2)];
    expect(windowRatios([floor, layer]).ratios[1]).toEqual([1]);
  });

  it('gives the quartiles and the median, and fails on no window rather than report a figure from nothing', () => {
    expect(quartiles([1.3, 1.1, 1.0, 1.2, 1.05])).toEqual({ q1: 1.05, median: 1.1, q3: 1.2 });
    expect(() => quartiles([])).toThrow(/no window was measured/);
  });
});
