import { describe, expect, it } from 'vitest';
import { heldLevel, refineProbe, type CapacityLevel } from '../../bench/capacity/run-capacity.js';

/** A level of the capacity ladder: only what the held level and the probe read. */
const level = (calls: number, held: boolean, server: CapacityLevel['server'] = 'layer'): CapacityLevel => ({
  server,
  calls,
  held,
  failed: held ? 0 : 1,
  refused: 0,
  withoutContext: 0,
  failures: {},
  answerP50Ms: 10,
  answerP99Ms: held ? 30 : 80,
  serverCores: 0.5,
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
