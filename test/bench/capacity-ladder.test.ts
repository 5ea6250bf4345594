import { describe, expect, it } from 'vitest';
import { comparedLevel, cpuRatio, heldLevel, refineProbe, type CapacityLevel } from '../../bench/capacity/run-capacity.js';

/** A level of the capacity ladder: only what the held level and the probe read. */
const level = (calls: number, held: boolean, server: CapacityLevel['server'] = 'layer', serverCores = 0.5): CapacityLevel => ({
  server,
  calls,
  held,
  failed: held ? 0 : 1,
  refused: 0,
  withoutContext: 0,
  failures: {},
  answerP50Ms: 10,
  answerP99Ms: held ? 30 : 80,
  serverCores,
  serverSystemCores: 0.1,
  serverMainThreadCores: 0.45,
  serverRssMb: 200,
  clientCores: 0.5,
  clientTickLateP99Ms: 5,
  clientTicksSkipped: 0,
  machineCores: 1,
});

describe('the capacity ladder, refined between the held level and the first failed', () => {
  it('halves the gap until it is under 2% of the held level, each verdict moving one bound', () => {
    const levels = [level(250, true), level(500, true), level(750, true), level(1000, false)];
    expect(refineProbe(levels, 'layer')).toBe(875);
    levels.push(level(875, true));
    expect(heldLevel(levels, 'layer')).toBe(875);
    expect(refineProbe(levels, 'layer')).toBe(938);
    levels.push(level(938, false));
    expect(refineProbe(levels, 'layer')).toBe(907);
    levels.push(level(907, true), level(923, true));
    expect(heldLevel(levels, 'layer')).toBe(923);
    // 931 is less than 2% above 923: nothing left to halve.
    expect(refineProbe(levels, 'layer')).toBeUndefined();
  });

  it('probes nothing for a server that held no level or failed none, and reads only its own levels', () => {
    expect(refineProbe([level(250, false)], 'layer')).toBeUndefined();
    expect(refineProbe([level(250, true), level(500, true)], 'layer')).toBeUndefined();
    const both = [level(750, true, 'bare'), level(1000, true, 'bare'), level(750, true), level(1000, false)];
    expect(refineProbe(both, 'bare')).toBeUndefined();
    expect(refineProbe(both, 'layer')).toBe(875);
  });

  it('a level held above one that failed does not count: held means every level below held too', () => {
    const levels = [level(500, true), level(750, false), level(1000, true)];
    expect(heldLevel(levels, 'layer')).toBe(500);
    expect(refineProbe(levels, 'layer')).toBe(625);
  });
});

describe('CPU per call over the floor, pair of windows by pair at the compared level', () => {
  it('compares at the highest level both held, the ratio the median of the ladder pair and the pairs after it', () => {
    const levels = [
      level(500, true, 'bare', 0.4),
      level(500, true, 'layer', 0.44),
      level(1000, true, 'bare', 0.8),
      level(1000, true, 'layer', 1.2),
      level(1250, false, 'bare', 0.95),
      level(1250, false, 'layer', 1),
      // A refine probe the floor never ran: not a level to compare at.
      level(1125, true, 'layer', 1.1),
    ];
    const held = { bare: 1000, layer: 1125, receptionist: 0 };
    expect(comparedLevel(levels, held, 'layer')).toBe(1000);
    const cpuWindows = [level(1000, true, 'bare', 0.8), level(1000, true, 'layer', 0.88), level(1000, true, 'bare', 1), level(1000, false, 'layer', 1.05)];
    // Pairs: 1.2 / 0.8, 0.88 / 0.8, 1.05 / 1: the median, not the ladder's one window.
    expect(cpuRatio({ levels, held, cpuWindows }, 'layer')).toEqual({ calls: 1000, pairs: [1.5, 1.1, 1.05], ratio: 1.1 });
    expect(cpuRatio({ levels, held, cpuWindows: [] }, 'layer')).toEqual({ calls: 1000, pairs: [1.5], ratio: 1.5 });
  });

  it('falls back to the lowest level both ran when the server held none, and has no ratio when they ran none in common', () => {
    const levels = [level(250, true, 'bare', 0.2), level(250, false, 'receptionist', 0.3), level(500, true, 'bare', 0.4)];
    const held = { bare: 500, layer: 0, receptionist: 0 };
    expect(comparedLevel(levels, held, 'receptionist')).toBe(250);
    expect(cpuRatio({ levels, held, cpuWindows: [] }, 'receptionist')?.ratio).toBe(1.5);
    expect(comparedLevel(levels, held, 'layer')).toBeUndefined();
    expect(cpuRatio({ levels, held, cpuWindows: [] }, 'layer')).toBeNull();
  });
});
