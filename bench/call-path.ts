// The call path's database cost: the one context query at call start next to
// a `select 1` on the same pool (the physical floor: one round trip), the
// flush at call end, and the synchronous cost of an enqueue per fsync policy.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { receptionistContext } from '../reference/context.js';
import { receptionistWrites, type ReceptionistWrites } from '../reference/operations.js';
import { flush } from '../src/buffer/flush-transaction.js';
import { Journal, loadContext } from '../src/index.js';
import { WriteBuffer } from '../src/buffer/write-buffer.js';
import { median, nsPerCall, round } from './measure.js';

export interface LatencySummary {
  readonly medianMs: number;
  readonly p99Ms: number;
}

export interface CallPathResults {
  readonly calls: number;
  readonly select1: LatencySummary;
  readonly loadContext: LatencySummary;
  readonly flush: LatencySummary;
  /** Each figure divided by `select 1`'s. */
  readonly ratios: { readonly loadMedian: number; readonly loadP99: number; readonly flushMedian: number; readonly flushP99: number };
  /** Synchronous cost of one enqueue (validate, number, journal), per fsync policy. */
  readonly enqueueUs: { readonly memory: number; readonly none: number; readonly interval: number; readonly write: number };
}

function summarize(samplesMs: number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
  return { medianMs: round(median(sorted), 3), p99Ms: round(p99, 3) };
}

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Runs `calls` simulated outbound calls for a lead of its own (of the first
 * business, e.g. the demo data's): for each,
 * a `select 1`, a context load and a flush of a typical call's writes (a lead
 * update, an appointment, two session updates, an outcome), interleaved so
 * that all three see the same machine conditions.
 */
export async function benchCallPath(knex: Knex, options: { quick: boolean }): Promise<CallPathResults> {
  const calls = options.quick ? 50 : 1000;
  const business = (await knex('businesses').orderBy('id').first('id')) as { id: number } | undefined;
  if (!business) throw new Error('bench: no business (seed the database first)');
  // A lead of its own, so the bench never changes the demo data.
  const [lead] = (await knex('leads')
    .insert({ tenant_id: business.id, full_name: 'Dr. Bench Q. Caller', phone: '+15550000000' })
    .returning('id')) as Array<{ id: number }>;
  const log = { business_id: business.id, lead_id: lead!.id };
  const run = `${process.pid}_${Date.now()}`;
  const select1: number[] = [];
  const load: number[] = [];
  const flushes: number[] = [];
  const warmup = 20;
  for (let i = 0; i < calls + warmup; i++) {
    const callSid = `CAbench_${run}_${i}`;
    const start = { callSid, streamSid: null, tenantId: log.business_id, parameters: { lead_id: String(log.lead_id) } };
    const s = await timeMs(() => knex.raw('select 1'));
    const l = await timeMs(() => loadContext(knex, receptionistContext, start, { timeoutMs: 5000 }));
    const buffer = new WriteBuffer({
      operations: receptionistWrites,
      callSid,
      tenantId: log.business_id,
      bindings: { leadId: log.lead_id, direction: 'inbound' },
    });
    buffer.enqueue('updateLead', { fields: { customerName: 'Bench Caller' } });
    buffer.enqueue('updateSession', { state: { step: 'greeting' } });
    buffer.enqueue('createAppointment', {
      startsAt: new Date(Date.UTC(2031, 0, 1, 9) + i * 3_600_000),
      endsAt: new Date(Date.UTC(2031, 0, 1, 10) + i * 3_600_000),
      title: 'Bench visit',
    });
    buffer.enqueue('updateSession', { state: { step: 'booked' }, summary: 'booked' });
    buffer.enqueue('callOutcome', { status: 'completed', durationSeconds: 60 });
    const f = await timeMs(() => flush(knex, buffer));
    if (i >= warmup) {
      select1.push(s);
      load.push(l);
      flushes.push(f);
    }
  }
  await knex('appointments').where('call_sid', 'like', `CAbench_${run}_%`).delete();
  await knex('call_sessions').where('call_sid', 'like', `CAbench_${run}_%`).delete();
  await knex('call_logs').where('call_sid', 'like', `CAbench_${run}_%`).delete();
  await knex('leads').where({ id: lead!.id }).delete();

  const floor = summarize(select1);
  const loadSummary = summarize(load);
  const flushSummary = summarize(flushes);
  return {
    calls,
    select1: floor,
    loadContext: loadSummary,
    flush: flushSummary,
    ratios: {
      loadMedian: round(loadSummary.medianMs / floor.medianMs),
      loadP99: round(loadSummary.p99Ms / floor.p99Ms),
      flushMedian: round(flushSummary.medianMs / floor.medianMs),
      flushP99: round(flushSummary.p99Ms / floor.p99Ms),
    },
    enqueueUs: {
      memory: enqueueUs(undefined, options.quick),
      none: enqueueUs('none', options.quick),
      interval: enqueueUs('interval', options.quick),
      write: enqueueUs('write', options.quick),
    },
  };
}

/** Microseconds per enqueue of a session update (in memory, or journaled with an fsync policy). */
function enqueueUs(fsync: 'none' | 'interval' | 'write' | undefined, quick: boolean): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcg-bench-journal-'));
  const journal = fsync ? new Journal({ dir, fsync }) : undefined;
  const perBuffer = fsync === 'write' ? 200 : 1000;
  let buffer: WriteBuffer<ReceptionistWrites> | undefined;
  let n = 0;
  try {
    const ns = nsPerCall(
      (i) => {
        if (i % perBuffer === 0) {
          buffer?.close();
          buffer = new WriteBuffer({ operations: receptionistWrites, callSid: `CAenq${n++}`, tenantId: 1, maxOperations: perBuffer, ...(journal ? { journal } : {}) });
        }
        buffer!.enqueue('updateSession', { state: { turn: i, intent: 'book' } });
      },
      perBuffer * (quick ? 1 : 5),
      3,
    );
    return round(ns / 1000, 1);
  } finally {
    journal?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The results as markdown rows. */
export function callPathMarkdown(r: CallPathResults): string[] {
  return [
    `### Call path (${r.calls} calls)`,
    '',
    '| measure | median | p99 | median / floor | p99 / floor |',
    '| --- | --- | --- | --- | --- |',
    `| \`select 1\` (floor: one round trip) | ${r.select1.medianMs} ms | ${r.select1.p99Ms} ms | 1 | 1 |`,
    `| loadCallContext (the one JOIN) | ${r.loadContext.medianMs} ms | ${r.loadContext.p99Ms} ms | ${r.ratios.loadMedian} | ${r.ratios.loadP99} |`,
    `| flush (BEGIN, 4 statements, COMMIT) | ${r.flush.medianMs} ms | ${r.flush.p99Ms} ms | ${r.ratios.flushMedian} | ${r.ratios.flushP99} |`,
    '',
    '| enqueue (synchronous, per write) | µs |',
    '| --- | --- |',
    `| in memory (no journal) | ${r.enqueueUs.memory} |`,
    `| journal, fsync none | ${r.enqueueUs.none} |`,
    `| journal, fsync interval (default) | ${r.enqueueUs.interval} |`,
    `| journal, fsync write | ${r.enqueueUs.write} |`,
    '',
  ];
}
