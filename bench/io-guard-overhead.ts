import type httpModule from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { LiveCallGuardProcessor } from '../src/guard/live-call-guard-processor.js';
import { startLiveCall } from '../src/guard/live-call.js';
import { median, nsPerCall, round } from './measure.js';

// Through require, as an instrumented app loads it (instrumentation-http hooks require).
const http = createRequire(import.meta.url)('node:http') as typeof httpModule;

export interface IoGuardOverhead {
  /** ns per `live.run(fn)` of a live call doing no I/O (a media frame's handler), guard off vs report. */
  liveRunNs: { off: number; report: number };
  /** A loop of node:http GETs to a loopback server: µs per request. */
  httpRequestUs: {
    requests: number;
    /** Guard off, inside a live call. */
    off: number;
    /** Guard report, outside calls: judged, not a violation. */
    reportOutsideCall: number;
    /** Guard report, inside a live call: every request a violation (stack captured, event, counter). */
    reportInLiveCall: number;
    /** Guard report inside a live call with the host allowlisted: allowed and counted. */
    reportAllowlisted: number;
  };
}

/**
 * The guard's cost beyond pg: a live call that does no I/O (guard off vs
 * report), and each judged HTTP request (node:http, real instrumentation,
 * loopback server on port 0), alternated in rounds so every mode sees the
 * same machine. `quick`: a handful of iterations, to check it runs.
 */
export async function benchIoGuardOverhead(guard: LiveCallGuardProcessor, options: { quick: boolean }): Promise<IoGuardOverhead> {
  const live = startLiveCall({ callSid: 'CAbench-io', tenantId: 1 });
  let sink = 0;
  const frame = (): void => {
    sink += 1;
  };
  const iterations = options.quick ? 10_000 : 1_000_000;
  const runNs = (mode: 'off' | 'report'): number => {
    guard.setMode(mode);
    return nsPerCall(() => live.run(frame), iterations);
  };
  const liveRunNs = { off: round(runNs('off')), report: round(runNs('report')) };
  live.end();

  const server = http.createServer((_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (): Promise<void> =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent }, (response) => {
          response.resume();
          response.on('end', resolve);
        })
        .on('error', reject);
    });
  const requests = options.quick ? 20 : 2_000;
  const rounds = options.quick ? 1 : 5;
  const loop = async (mode: 'off' | 'report', inLiveCall: boolean, allow: boolean): Promise<number> => {
    guard.setMode(mode);
    guard.setAllowHosts(allow ? ['127.0.0.1'] : []);
    const call = inLiveCall ? startLiveCall({ callSid: 'CAbench-http', tenantId: 1 }) : undefined;
    const start = process.hrtime.bigint();
    for (let i = 0; i < requests; i += 1) {
      if (call) await call.run(get);
      else await get();
    }
    const us = Number(process.hrtime.bigint() - start) / 1e3 / requests;
    call?.end();
    return us;
  };
  const samples = { off: [] as number[], reportOutsideCall: [] as number[], reportInLiveCall: [] as number[], reportAllowlisted: [] as number[] };
  try {
    await loop('off', true, false); // warm-up
    for (let r = 0; r < rounds; r += 1) {
      samples.off.push(await loop('off', true, false));
      samples.reportOutsideCall.push(await loop('report', false, false));
      samples.reportInLiveCall.push(await loop('report', true, false));
      samples.reportAllowlisted.push(await loop('report', true, true));
    }
  } finally {
    guard.setMode('report');
    guard.setAllowHosts([]);
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
  if (sink === 0) throw new Error('the frame handler never ran');
  return {
    liveRunNs,
    httpRequestUs: {
      requests,
      off: round(median(samples.off)),
      reportOutsideCall: round(median(samples.reportOutsideCall)),
      reportInLiveCall: round(median(samples.reportInLiveCall)),
      reportAllowlisted: round(median(samples.reportAllowlisted)),
    },
  };
}
