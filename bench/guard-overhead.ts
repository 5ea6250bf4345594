import { ROOT_CONTEXT } from '@opentelemetry/api';
import { TracerProvider, type Span } from '@opentelemetry/sdk-trace';
import type { Knex } from 'knex';
import type { GuardMode } from '../reference/config.js';
import { LiveCallGuardProcessor } from '../src/guard/live-call-guard-processor.js';
import { startLiveCall } from '../src/guard/live-call.js';
import { median, nsPerCall, round } from './measure.js';

export interface GuardOverhead {
  onStartNs: {
    nonDbOutsideCall: number;
    nonDbInLiveCall: number;
    dbOutsideCall: number;
    dbInLiveCallReport: number;
  };
  queryLoop: {
    queries: number;
    perSecond: Record<'off' | 'report' | 'reportInLiveCall', number>;
    /** Throughput with the guard in report mode (queries outside calls) over guard off. */
    reportOverOff: number;
  };
}

/**
 * The guard's cost: ns per onStart call on real SDK spans (measured on a
 * processor of its own), and the throughput of a `select 1` loop on the real
 * pg instrumentation with the process guard off vs report, alternated in
 * rounds so both see the same machine.
 */
export async function benchGuardOverhead(
  knex: Knex,
  guard: LiveCallGuardProcessor,
  options: { quick: boolean },
): Promise<GuardOverhead> {
  const probe = new LiveCallGuardProcessor({ mode: 'report' });
  const tracer = new TracerProvider().getTracer('bench');
  const nonDb = tracer.startSpan('frame.handle') as unknown as Span;
  const db = tracer.startSpan('pg.query:SELECT', { attributes: { 'db.system.name': 'postgresql' } }) as unknown as Span;
  const live = startLiveCall({ callSid: 'CAbench', tenantId: 1 }, ROOT_CONTEXT);
  const n = options.quick ? 200_000 : 2_000_000;
  const onStartNs = {
    nonDbOutsideCall: round(nsPerCall(() => probe.onStart(nonDb, ROOT_CONTEXT), n)),
    nonDbInLiveCall: round(nsPerCall(() => probe.onStart(nonDb, live.context), n)),
    dbOutsideCall: round(nsPerCall(() => probe.onStart(db, ROOT_CONTEXT), n)),
    // A violation: attributes, status and the call-site stack. Rare by design.
    dbInLiveCallReport: round(nsPerCall(() => probe.onStart(db, live.context), options.quick ? 2_000 : 20_000)),
  };
  live.end();

  const queries = options.quick ? 300 : 2_000;
  const rounds = options.quick ? 3 : 5;
  const samples: Record<keyof GuardOverhead['queryLoop']['perSecond'], number[]> = {
    off: [],
    report: [],
    reportInLiveCall: [],
  };
  const loop = async (mode: GuardMode, inLiveCall: boolean): Promise<number> => {
    guard.setMode(mode);
    const call = inLiveCall ? startLiveCall({ callSid: 'CAloop', tenantId: 1 }) : undefined;
    const start = process.hrtime.bigint();
    for (let i = 0; i < queries; i += 1) {
      if (call) await call.run(() => knex.raw('select 1'));
      else await knex.raw('select 1');
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    call?.end();
    return queries / seconds;
  };
  await loop('off', false); // warm-up: connections, JIT
  for (let r = 0; r < rounds; r += 1) {
    samples.off.push(await loop('off', false));
    samples.report.push(await loop('report', false));
    samples.reportInLiveCall.push(await loop('report', true));
  }
  guard.setMode('report');
  const perSecond = {
    off: round(median(samples.off), 0),
    report: round(median(samples.report), 0),
    reportInLiveCall: round(median(samples.reportInLiveCall), 0),
  };
  return { onStartNs, queryLoop: { queries, perSecond, reportOverOff: round(perSecond.report / perSecond.off, 3) } };
}
