import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import { expectNoLiveCallDbAccess } from '../../src/testing/expect-no-live-call-db-access.js';
import { newCallSid, placeCall, SILENCE, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';
import { spanExporter } from '../helpers/spans.js';

const JANE = '+15551230001'; // "Dr. Jane Q. Smith", a lead of the dental clinic
const MICHAEL = '+15551230002';

function rootSpanOf(callSid: string): ReadableSpan | undefined {
  return spanExporter()
    .getFinishedSpans()
    .find((span) => span.name === 'media_stream' && span.attributes['call.sid'] === callSid);
}


function traceOf(span: ReadableSpan): ReadableSpan[] {
  return spanExporter()
    .getFinishedSpans()
    .filter((s) => s.spanContext().traceId === span.spanContext().traceId);
}

describe('media-stream server, end to end', () => {
  let app: TestMediaServer;
  let base: string;

  /** The socket closes before the flush; the root span ends after it. */
  async function rootSpan(callSid: string): Promise<ReadableSpan> {
    await app.callEnded(callSid);
    const span = rootSpanOf(callSid);
    if (!span) throw new Error(`no media_stream span for ${callSid}`);
    return span;
  }

  beforeAll(async () => {
    app = await startMediaServer();
    base = app.server.url;
  });
  afterAll(async () => {
    await app.stop();
  });

  it('inbound call with a lead: one query at start, greeting by name, zero live queries, one transaction at the end', async () => {
    const callSid = newCallSid();
    const { client } = await placeCall(base, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE, Direction: 'inbound' });
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    for (let i = 0; i < 25; i += 1) client.media(SILENCE);
    client.dtmf('1');
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'booked');
    client.dtmf('3');
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'noted');
    client.stop(callSid);
    expect((await client.closed).code).toBe(1000);

    const root = await rootSpan(callSid);
    expect(root.attributes).toMatchObject({
      'call.sid': callSid,
      'tenant.id': expect.any(String),
      'call.direction': 'inbound',
      'call.db.queries.load': 1,
      'call.db.queries.live': 0,
    });
    const spans = traceOf(root);
    expectNoLiveCallDbAccess(spans);
    const flushStatements = spans
      .filter((s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-pg' && s.name !== 'pg.connect' && s.name !== 'pg-pool.connect')
      .filter((s) => {
        const parent = spans.find((p) => p.spanContext().spanId === s.parentSpanContext?.spanId);
        return parent?.name === 'call.flush';
      })
      .map((s) => String(s.attributes['db.query.text']).split(/[ ;]/)[0]!.toLowerCase());
    expect(flushStatements[0]).toBe('begin');
    expect(flushStatements.at(-1)).toBe('commit');
    expect(root.attributes['call.db.queries.flush']).toBe(flushStatements.length);

    const session = await app.db.knex('call_sessions').where({ call_sid: callSid }).first();
    expect(session.state.greeting).toContain('Jane');
    const appointments = await app.db.knex('appointments').where({ call_sid: callSid });
    expect(appointments).toHaveLength(1);
    const lead = await app.db.knex('leads').where({ phone: JANE }).first();
    expect(lead.customer_name).toBe('Alex Rivera');
    const log = await app.db.knex('call_logs').where({ call_sid: callSid }).first();
    expect(log).toMatchObject({ status: 'completed', direction: 'inbound', lead_id: lead.id });
  });

  it('outbound call: the context comes from the lead id, the greeting names the lead', async () => {
    const callSid = newCallSid();
    const michael = await app.db.knex('leads').where({ phone: MICHAEL }).first('id');
    const { client } = await placeCall(base, {
      CallSid: callSid,
      From: DEMO_NUMBERS.dental,
      To: MICHAEL,
      Direction: 'outbound-api',
      lead_id: String(michael.id),
    });
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    client.stop(callSid);
    await client.closed;
    const root = await rootSpan(callSid);
    expect(root.attributes).toMatchObject({ 'call.direction': 'outbound', 'call.db.queries.load': 1, 'call.db.queries.live': 0 });
    const session = await app.db.knex('call_sessions').where({ call_sid: callSid }).first();
    expect(session.state.greeting).toBe('Hi Michael, this is Bright Smile Dental calling.');
    expect(session.lead_id).toBe(michael.id);
  });

  it('name capture: buffered during the call, persisted by the final flush', async () => {
    const callSid = newCallSid();
    const { client } = await placeCall(base, { CallSid: callSid, To: DEMO_NUMBERS.plumbing, From: '+972525550002' });
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    client.dtmf('3');
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'noted');
    const during = await app.db.knex('leads').where({ phone: '+972525550002' }).first('customer_name');
    expect(during.customer_name).toBe('Dana'); // not yet: the write is buffered
    client.stop(callSid);
    await client.closed;
    await rootSpan(callSid);
    const after = await app.db.knex('leads').where({ phone: '+972525550002' }).first('customer_name');
    expect(after.customer_name).toBe('Alex Rivera');
  });

  it('barge-in: a caller speaking over the greeting clears playback', async () => {
    const callSid = newCallSid();
    const { client } = await placeCall(base, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE }, { answerMarks: false });
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    const loud = Buffer.alloc(160);
    for (let i = 0; i < 160; i += 1) loud[i] = i % 2 === 0 ? 0x10 : 0x90; // a loud square wave in µ-law
    for (let i = 0; i < 5; i += 1) client.media(loud);
    await client.waitFor((m) => m.event === 'clear');
    client.stop(callSid);
    await client.closed;
  });

  it('an unknown number gets TwiML that says so and hangs up', async () => {
    const response = await fetch(`${base}/twiml`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: newCallSid(), To: '+10000000000', From: JANE }).toString(),
    });
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain('<Say>');
    expect(body).toContain('<Hangup/>');
    expect(body).not.toContain('<Stream');
  });

  it('records the call once, whatever Twilio retries', async () => {
    const callSid = newCallSid();
    const form = new URLSearchParams({ CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE }).toString();
    const post = () => fetch(`${base}/twiml`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    const answers = await Promise.all([post(), post(), post()]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await app.db.knex('call_logs').where({ call_sid: callSid })).toHaveLength(1);
  });
});
