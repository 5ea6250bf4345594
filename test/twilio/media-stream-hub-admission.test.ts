import { describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import type { Flusher } from '../../src/buffer/flusher.js';
import type { CallApp } from '../../src/call-app.js';
import type { Agent } from '../../src/twilio/agent.js';
import { DEFAULT_LIMITS, MediaStreamHub } from '../../src/twilio/media-stream-hub.js';

// Admission only: no call runs, so the hub's database, app, agent and flusher are never touched.
function hub(maxLiveCalls: number): { hub: MediaStreamHub; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { error: () => {}, info: () => {}, warn: (_f: object | string, message?: string) => void warnings.push(message ?? '') };
  const unused = {} as never;
  return {
    warnings,
    hub: new MediaStreamHub({
      knex: unused as Knex,
      app: unused as CallApp,
      agent: unused as Agent,
      flusher: unused as Flusher,
      journal: undefined,
      logger,
      streamSecret: undefined,
      limits: { ...DEFAULT_LIMITS, maxLiveCalls },
      strictLoad: true,
    }),
  };
}

describe('MediaStreamHub admission (MAX_LIVE_CALLS)', () => {
  it('refuses new sockets at the limit of open streams, a start at the limit of started calls, and counts where', () => {
    const { hub: h, warnings } = hub(2);
    h.opened();
    expect(h.admission('twiml')).toBeUndefined();
    h.opened();
    expect(h.admission('upgrade')).toBe('at capacity (2 live calls)');
    expect(h.admission('twiml')).toBe('at capacity (2 live calls)');
    // A start is judged on started calls (a server without the upgrade check may have more sockets open).
    expect(h.startRefusal()).toBeUndefined();
    expect(h.claim('CA1')).toBe(true);
    expect(h.claim('CA2')).toBe(true);
    expect(h.startRefusal()).toBe('at capacity (2 live calls)');
    h.refused('start', h.startRefusal()!);
    expect(h.stats()).toMatchObject({ liveCalls: 2, sessions: 2, refused: { twiml: 1, upgrade: 1, start: 1 } });
    // Logged once per streak, counted every time.
    expect(warnings.filter((w) => w.startsWith('refusing new calls'))).toHaveLength(1);

    h.release('CA1');
    h.closed();
    expect(h.admission('twiml')).toBeUndefined();
    expect(h.startRefusal()).toBeUndefined();
  });

  it('0 means no limit', () => {
    const { hub: h } = hub(0);
    for (let i = 0; i < 1000; i++) h.opened();
    expect(h.refusal()).toBeUndefined();
  });

  it('a bad limit fails at construction, naming the option', () => {
    expect(() => hub(-1)).toThrow(/maxLiveCalls must be a whole number >= 0.*received -1/);
    expect(() => hub(1.5)).toThrow(/maxLiveCalls/);
  });
});
