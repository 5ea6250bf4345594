import type httpModule from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { startLiveCall, type LiveCall } from '../../src/guard/live-call.js';
import { spanExporter } from './spans.js';

// Loaded through require, as a CommonJS app (or an ESM app started with the
// register hook, see docs/guard-io.md) loads it: instrumentation-http hooks
// require; a bare ESM import in a test process without the hook is not seen.
const require = createRequire(import.meta.url);
export const http = require('node:http') as typeof httpModule;

/** A real HTTP server on 127.0.0.1, port 0, counting the requests it receives. */
export interface CountingHttpServer {
  readonly port: number;
  /** Requests received so far. */
  readonly received: number;
  close(): Promise<void>;
}

export async function startCountingHttpServer(): Promise<CountingHttpServer> {
  let received = 0;
  const server = http.createServer((_request, response) => {
    received += 1;
    response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get received() {
      return received;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** node:http GET (the instrumented module), the body read. */
export function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

export type Outcome = { ok: true } | { ok: false; error: unknown };

/** What {@link inLiveCall} returns: how `fn` ended, and the call's ended `in_live_call` span. */
export interface LiveCallRun {
  outcome: Outcome;
  live: ReadableSpan;
  callSid: string;
}

let callNumber = 0;

/** Runs `fn` inside a fresh live call (with `ioBudgetMs` if given) and ends it; never throws. */
export async function inLiveCall(fn: (live: LiveCall) => Promise<unknown>, ioBudgetMs?: number): Promise<LiveCallRun> {
  callNumber += 1;
  const callSid = `CA-io-${process.pid}-${callNumber}`;
  const live = startLiveCall({ callSid, tenantId: 't-io', ...(ioBudgetMs === undefined ? {} : { ioBudgetMs }) });
  let outcome: Outcome;
  try {
    await live.run(() => fn(live));
    outcome = { ok: true };
  } catch (error) {
    outcome = { ok: false, error };
  }
  live.end();
  const span = spanExporter()
    .getFinishedSpans()
    .find((s) => s.name === 'in_live_call' && s.attributes['call.sid'] === callSid)!;
  return { outcome, live: span, callSid };
}

/** The `live_call.io_violation` events of a live span. */
export function ioEvents(live: ReadableSpan): ReadableSpan['events'] {
  return live.events.filter((e) => e.name === 'live_call.io_violation');
}

/** Runs `fn` and reports how it ended, without throwing. */
export async function outcomeOf(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    await fn();
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}
