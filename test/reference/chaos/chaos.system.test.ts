import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { ChaosRun, formatSummary, type ChaosFaults, type ChaosSummary } from './harness.js';

const NONE: ChaosFaults = { kill: false, dbCut: false, journalFill: false, fuzz: false };

/**
 * The seeded, bounded chaos suite: the real server as a child process, a
 * real PostgreSQL behind a TCP proxy, real sockets on port 0. Each fault
 * type has a run of its own so a failure names its fault; `npm run chaos`
 * mixes them for longer.
 */
describe('chaos: nothing a caller, a peer or a full disk does takes the server down or loses a write', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  /** Generous: each case is bounded by its rounds; the limit only stops a hang, it never judges speed. */
  const BOUND_MS = 240_000;

  async function chaos(faults: Partial<ChaosFaults>, seed: number, rounds: number): Promise<ChaosSummary> {
    const summary = await new ChaosRun({
      databaseUrl: db.url,
      seed,
      rounds,
      faults: { ...NONE, ...faults },
      faultChance: 1,
      callsPerRound: 2,
      ackTimeoutMs: 4000,
      closeTimeoutMs: 20_000,
      drainTimeoutMs: 10_000,
      // A seeded sample of the corpus: the whole of it serially is `npm run chaos`'s job.
      fuzzCasesPerRound: 12,
    }).run();
    return summary;
  }

  function expectNothingLost(summary: ChaosSummary): void {
    const report = formatSummary(summary);
    expect(summary.acknowledged.durable + summary.acknowledged.volatile, report).toBeGreaterThan(0);
    expect(summary.lost, report).toMatchObject({ durable: 0, volatile: 0 });
    expect(summary.duplicated, report).toBe(0);
    expect(summary.unexpectedCrashes, report).toEqual([]);
    expect(summary.failures, report).toEqual([]);
  }

  it('SIGKILL mid-call and mid-flush, restart on the same journal: no acknowledged write lost or duplicated', async () => {
    const summary = await chaos({ kill: true }, 11, 3);
    expect(summary.kills).toBeGreaterThanOrEqual(3);
    expectNothingLost(summary);
  }, BOUND_MS);

  it('the database cut mid-call and mid-flush: every acknowledged write lands once it is back', async () => {
    const summary = await chaos({ dbCut: true }, 12, 2);
    expect(summary.dbCuts).toBeGreaterThanOrEqual(1);
    expectNothingLost(summary);
  }, BOUND_MS);

  it('the fuzz corpus beside a call: the server stays up and the neighbour call completes with its writes', async () => {
    const summary = await chaos({ fuzz: true }, 13, 1);
    expect(summary.fuzzMessages).toBeGreaterThan(0);
    expect(summary.neighbours.checked).toBe(1);
    expectNothingLost(summary);
  }, BOUND_MS);

  it('a full journal mid-call and at call start: no crash, every write answered, none lost', async () => {
    const summary = await chaos({ journalFill: true }, 14, 2);
    // A fault that could not be set up is a failure that says what is needed, never a pass.
    expect(summary.journalFillSkipped, 'the journal-fill fault needs a tmpfs mount (run as root, as CI does)').toBeUndefined();
    expect(summary.journalFills).toBe(2);
    expectNothingLost(summary);
  }, BOUND_MS);
});
