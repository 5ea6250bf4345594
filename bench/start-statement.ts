// The statement a stream's `start` waits for, by how the replay claim is
// made, next to a `select 1` on the same pool, interleaved (same machine
// conditions): the issue-21 options, measured.
import type { Knex } from 'knex';
import { receptionistContext } from '../reference/context.js';
import { claimStream } from '../src/context/claim-stream.js';
import { loadContext } from '../src/index.js';
import { STREAM_CLAIMS_TABLE } from '../src/context/stream-claims.js';
import { median, round } from './measure.js';

export interface StartStatementResults {
  readonly rounds: number;
  /** Median ms of each option. */
  readonly medianMs: Readonly<Record<StartOption, number>>;
  /** Each median over `select 1`'s. */
  readonly overSelect1: Readonly<Record<StartOption, number>>;
}

/**
 * - `select1`: the floor, one round trip.
 * - `loadRead`: the load alone (the statement the webhook's prefetch runs).
 * - `loadClaimSync`: the load with the claim, commit waiting for the WAL flush (before issue 21).
 * - `loadClaimAsync`: the load with the claim, `synchronous_commit = off` for its transaction (the fallback path now).
 * - `claimSync` / `claimAsync`: the claim alone (the prefetched path's statement at `start`), each way.
 */
export const START_OPTIONS = ['select1', 'loadRead', 'loadClaimSync', 'loadClaimAsync', 'claimSync', 'claimAsync'] as const;
export type StartOption = (typeof START_OPTIONS)[number];

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The claim before issue 21: an insert whose commit waits for its WAL flush, in the load's statement. */
function loadClaimSync(knex: Knex, callSid: string, tenantId: number, key: string): Knex.Raw {
  const appQuery = receptionistContext.query(knex, { callSid, streamSid: null, tenantId, parameters: {} });
  return knex.raw(
    `with "c" as (insert into ?? (stream_key, call_sid, tenant_id, expires_at) values (?, ?, ?, now() + interval '5 minutes') on conflict (stream_key) do nothing returning 1)
     select (select count(*) from "c")::int as claimed, q.* from (select 1) as one left join lateral (select true as found, app.* from (?) as app limit 1) as q on true`,
    [STREAM_CLAIMS_TABLE, key, callSid, String(tenantId), appQuery],
  );
}

export async function benchStartStatement(knex: Knex, options: { quick: boolean }): Promise<StartStatementResults> {
  const rounds = options.quick ? 20 : 300;
  const business = (await knex('businesses').orderBy('id').first('id')) as { id: number } | undefined;
  if (!business) throw new Error('bench: no business (seed the database first)');
  const tenantId = business.id;
  const run = `${process.pid}_${Date.now()}`;
  const samples: Record<StartOption, number[]> = { select1: [], loadRead: [], loadClaimSync: [], loadClaimAsync: [], claimSync: [], claimAsync: [] };
  const expiresAt = new Date(Date.now() + 300_000);
  const warmup = 10;
  for (let i = 0; i < rounds + warmup; i++) {
    const callSid = `CAbenchstart_${run}_${i}`;
    const start = { callSid, streamSid: null, tenantId, parameters: {} };
    const claim = (suffix: string) => ({ key: `bench:${run}:${i}:${suffix}`, callSid, tenantId: String(tenantId), expiresAt });
    const measured: Record<StartOption, () => Promise<unknown>> = {
      select1: () => knex.raw('select 1'),
      loadRead: () => loadContext(knex, receptionistContext, start, { timeoutMs: 5000 }),
      loadClaimSync: () => loadClaimSync(knex, callSid, tenantId, claim('ls').key),
      loadClaimAsync: () => loadContext(knex, receptionistContext, start, { timeoutMs: 5000, streamKey: claim('la').key, streamKeyExpiresAt: expiresAt }),
      claimSync: () =>
        knex.raw(`insert into ?? (stream_key, call_sid, tenant_id, expires_at) values (?, ?, ?, ?) on conflict (stream_key) do nothing returning 1`, [
          STREAM_CLAIMS_TABLE,
          claim('cs').key,
          callSid,
          String(tenantId),
          expiresAt,
        ]),
      claimAsync: () => claimStream(knex, claim('ca'), { timeoutMs: 5000 }),
    };
    // Rotate the order each round: no option always runs right after another.
    for (let k = 0; k < START_OPTIONS.length; k++) {
      const option = START_OPTIONS[(i + k) % START_OPTIONS.length]!;
      const ms = await timeMs(measured[option]);
      if (i >= warmup) samples[option].push(ms);
    }
  }
  await knex(STREAM_CLAIMS_TABLE).where('stream_key', 'like', `bench:${run}:%`).delete();
  const medianMs = Object.fromEntries(START_OPTIONS.map((o) => [o, round(median(samples[o]), 3)])) as Record<StartOption, number>;
  const overSelect1 = Object.fromEntries(START_OPTIONS.map((o) => [o, round(medianMs[o] / medianMs.select1, 1)])) as Record<StartOption, number>;
  return { rounds, medianMs, overSelect1 };
}

export function startStatementMarkdown(results: StartStatementResults): string[] {
  const label: Record<StartOption, string> = {
    select1: '`select 1` (one round trip)',
    loadRead: 'the load alone, a read (what the webhook prefetch runs)',
    loadClaimSync: 'load + claim, commit waits for the WAL flush (before)',
    loadClaimAsync: 'load + claim, `synchronous_commit = off` (fallback path at `start`)',
    claimSync: 'claim alone, commit waits for the WAL flush',
    claimAsync: 'claim alone, `synchronous_commit = off` (prefetched path at `start`)',
  };
  return [
    `### The statement a stream's \`start\` waits for (median of ${results.rounds}, interleaved)`,
    '',
    '| statement | median (ms) | × `select 1` |',
    '| --- | --- | --- |',
    ...START_OPTIONS.map((o) => `| ${label[o]} | ${results.medianMs[o]} | ${results.overSelect1[o]} |`),
    '',
  ];
}
