import { SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/defaults.js';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import { newCallSid, placeCall, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';
import { spanExporter } from '../helpers/spans.js';

const BURST = 40;
const JANE = '+15551230001';

describe('pool warm-up', () => {
  let app: TestMediaServer;

  beforeAll(async () => {
    app = await startMediaServer();
  });
  afterAll(async () => {
    await app.stop();
  });

  it('a fresh server has its pool open before the first call', async () => {
    const pool = (app.server.database.knex.client as { pool: { numFree(): number; numUsed(): number } }).pool;
    expect(pool.numFree() + pool.numUsed()).toBe(DEFAULTS.dbPoolSize);
  });

  it(`a burst of ${BURST} call starts on a fresh server: every start statement (the load, or the claim of a prefetched context) within its timeout`, async () => {
    const calls = await Promise.all(
      Array.from({ length: BURST }, async () => {
        const callSid = newCallSid();
        const { client } = await placeCall(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE, Direction: 'inbound' });
        await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
        return { client, callSid };
      }),
    );
    await Promise.all(
      calls.map(async ({ client, callSid }) => {
        client.stop(callSid);
        await client.closed;
        await app.callEnded(callSid);
      }),
    );
    const sids = new Set(calls.map((c) => c.callSid));
    const spans = spanExporter().getFinishedSpans();
    const traces = new Set(
      spans.filter((s) => s.name === 'media_stream' && sids.has(String(s.attributes['call.sid']))).map((s) => s.spanContext().traceId),
    );
    // The statement each start waited for: the load, or only the claim when the webhook prefetched the context.
    const loads = spans.filter((s) => (s.name === 'call.load_context' || s.name === 'call.claim_stream') && traces.has(s.spanContext().traceId));
    expect(loads).toHaveLength(BURST);
    const ms = loads.map((s) => s.duration[0] * 1000 + s.duration[1] / 1e6).sort((a, b) => a - b);
    // A statement over the timeout fails (the call goes on without its context): none may.
    expect(loads.filter((s) => s.status.code === SpanStatusCode.ERROR)).toHaveLength(0);
    expect(ms.at(-1)!).toBeLessThan(DEFAULTS.contextLoadTimeoutMs);
  });
});
