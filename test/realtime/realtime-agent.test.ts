import { Writable } from 'node:stream';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import { realtimeReceptionistAgent, type RealtimeReceptionistAgent } from '../../reference/realtime-agent.js';
import type { ReceptionistAgent } from '../../reference/agent.js';
import { expectNoLiveCallDbAccess } from '../../src/testing/expect-no-live-call-db-access.js';
import { tones } from '../../src/testing/mulaw.js';
import type { OutboundMessage } from '../../src/twilio/twilio-messages.js';
import { newCallSid, placeCall, SILENCE, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';
import { LocalRealtimeServer, serverEvents, type ModelConnection } from '../helpers/realtime-server.js';
import { spanExporter } from '../helpers/spans.js';
import type { TwilioStreamClient } from '../../src/testing/twilio-stream-client.js';

const JANE = '+15551230001'; // "Dr. Jane Q. Smith", a lead of the dental clinic
const DANA = '+972525550002'; // a lead of the plumbing business
const API_KEY = 'sk-test-never-in-the-logs-0123456789';

/** Model audio recognisable by its bytes. */
const pattern = (byte: number, bytes: number): Buffer => Buffer.alloc(bytes, byte);

/** What Twilio received as audio, decoded, in order. */
function audioOf(messages: OutboundMessage[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => (m.event === 'media' ? [Buffer.from(m.media.payload, 'base64')] : [])));
}

function rootSpanOf(callSid: string): ReadableSpan {
  const span = spanExporter()
    .getFinishedSpans()
    .find((s) => s.name === 'media_stream' && s.attributes['call.sid'] === callSid);
  if (!span) throw new Error(`no media_stream span for ${callSid}`);
  return span;
}

function traceOf(span: ReadableSpan): ReadableSpan[] {
  return spanExporter()
    .getFinishedSpans()
    .filter((s) => s.spanContext().traceId === span.spanContext().traceId);
}

/** One statement at start, none live, and the flush as one transaction (BEGIN … COMMIT). */
function expectOneLoadZeroLiveOneTransaction(callSid: string): ReadableSpan[] {
  const root = rootSpanOf(callSid);
  expect(root.attributes).toMatchObject({ 'call.db.queries.load': 1, 'call.db.queries.live': 0, 'call.db.commits.live': 0 });
  const spans = traceOf(root);
  expectNoLiveCallDbAccess(spans);
  const flush = spans.find((s) => s.name === 'call.flush');
  const statements = spans
    .filter((s) => s.parentSpanContext?.spanId === flush?.spanContext().spanId && s.instrumentationScope.name === '@opentelemetry/instrumentation-pg')
    .filter((s) => !String(s.name).includes('connect'))
    .sort((a, b) => (a.startTime[0] - b.startTime[0]) * 1e9 + (a.startTime[1] - b.startTime[1]))
    .map((s) => String(s.attributes['db.query.text']).split(/[ ;]/)[0]!.toLowerCase());
  expect(statements[0]).toBe('begin');
  expect(statements.at(-1)).toBe('commit');
  expect(statements.filter((s) => s === 'begin' || s === 'commit')).toHaveLength(2);
  return spans;
}

/** The Realtime receptionist, its log lines captured, and a way to wait for frames it was given. */
function instrumented(agent: RealtimeReceptionistAgent, logs: string[]): { agent: ReceptionistAgent; framesSeen: (n: number) => Promise<void> } {
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  );
  let frames = 0;
  let waiting: Array<{ n: number; resolve: () => void }> = [];
  return {
    agent: {
      startCall(call) {
        const session = agent.startCall({ ...call, log: logger.child({ call_sid: call.callSid }) });
        return {
          ...session,
          onMedia(frame) {
            session.onMedia?.(frame);
            frames += 1;
            for (const w of waiting.filter((w) => frames >= w.n)) w.resolve();
            waiting = waiting.filter((w) => frames < w.n);
          },
        };
      },
    },
    framesSeen: (n) => (frames >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n: frames + n, resolve }))),
  };
}

describe('realtimeAgent: the receptionist on a local Realtime server, through the real media-stream server', () => {
  let model: LocalRealtimeServer;
  let app: TestMediaServer;
  let agent: RealtimeReceptionistAgent;
  let framesSeen: (n: number) => Promise<void>;
  const logs: string[] = [];

  beforeAll(async () => {
    model = await LocalRealtimeServer.start();
    agent = realtimeReceptionistAgent({ apiKey: API_KEY, url: model.url, connectTimeoutMs: 5_000, maxQueuedFrames: 10, maxUnplayedMs: 2_000 });
    const wrapped = instrumented(agent, logs);
    framesSeen = wrapped.framesSeen;
    app = await startMediaServer({}, wrapped.agent);
  });
  afterAll(async () => {
    await app?.stop();
    await model?.close();
  });
  beforeEach(() => {
    model.behaviour = {};
  });

  async function call(
    from = JANE,
    to: string = DEMO_NUMBERS.dental,
    answerMarks: 'immediately' | false = 'immediately',
  ): Promise<{ callSid: string; client: TwilioStreamClient; connection: ModelConnection }> {
    const callSid = newCallSid();
    const next = model.nextConnection();
    const { client } = await placeCall(app.server.url, { CallSid: callSid, To: to, From: from, Direction: 'inbound' }, { answerMarks });
    const connection = await next;
    await connection.waitFor('session.update');
    return { callSid, client, connection };
  }

  async function hangUp(callSid: string, client: TwilioStreamClient): Promise<void> {
    client.stop(callSid);
    await client.closed;
    await app.callEnded(callSid);
  }

  /** Transcript rows of a call, without settle()'s tool calls. */
  const transcriptOf = async (callSid: string) =>
    (await app.db.knex('call_transcripts').where({ call_sid: callSid }).orderBy('position')).filter((row) => row.tool_name !== 'sync');

  let syncs = 0;
  /**
   * Waits until the bridge has handled every event the model sent so far:
   * a tool call's answer comes back after them (one socket, in order). The
   * tool is unknown, so it leaves only an error answer (and a transcript row,
   * left out by transcriptOf).
   */
  async function settle(connection: ModelConnection): Promise<void> {
    const callId = `sync_${++syncs}`;
    connection.send(serverEvents.functionCall(callId, 'sync', '{}'));
    await connection.waitFor('conversation.item.create', 1, (e) => e.item.type === 'function_call_output' && e.item.call_id === callId);
  }

  it('greeting: session.update from the frozen context (µ-law, server VAD, tools), audio both ways as sent, the transcript lands at the end', async () => {
    const { callSid, client, connection } = await call();
    const update = (await connection.waitFor('session.update')).session;
    expect(connection.request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(new URL(connection.request.url!, 'ws://x').searchParams.get('model')).toBe('gpt-realtime');
    expect(update).toMatchObject({
      type: 'realtime',
      audio: { input: { format: { type: 'audio/pcmu' }, turn_detection: { type: 'server_vad' } }, output: { format: { type: 'audio/pcmu' } } },
    });
    expect(update.type === 'realtime' && update.instructions).toContain('The caller is Jane.');
    expect(update.type === 'realtime' && update.tools?.map((t) => ('name' in t ? t.name : ''))).toEqual([
      'find_free_slots',
      'book_appointment',
      'request_callback',
      'save_caller_name',
    ]);
    const greet = await connection.waitFor('response.create');
    expect(greet.response?.instructions).toContain('Jane');

    // Model → caller: 1000 bytes in deltas of 300 (not whole frames): in order, whole frames, silence only at the end.
    const greeting = tones([{ hz: 660, ms: 125 }]);
    expect(greeting.length).toBe(1000);
    connection.speak('item_greeting', 'resp_1', greeting, 'Hello Jane, thank you for calling Bright Smile Dental.', 300);
    await client.waitFor((m) => m.event === 'mark' && m.mark.name.startsWith('lcg-rt-') && audioOf(client.received).length >= 1120);
    const heard = audioOf(client.received);
    expect(heard.subarray(0, 1000).equals(greeting)).toBe(true);
    expect(heard.subarray(1000).equals(Buffer.alloc(120, 0xff))).toBe(true);

    // Caller → model: each 20 ms payload as received.
    const frame = tones([{ hz: 440, ms: 20 }]);
    client.media(frame);
    const append = await connection.waitFor('input_audio_buffer.append');
    expect(append.audio).toBe(frame.toString('base64'));

    await settle(connection);
    await hangUp(callSid, client);
    // The model socket does not outlive the call.
    expect(await connection.closed).toBe(1000);
    expectOneLoadZeroLiveOneTransaction(callSid);
    const rows = await transcriptOf(callSid);
    expect(rows.map((r) => [r.position, r.role, r.text])).toEqual([[1, 'assistant', 'Hello Jane, thank you for calling Bright Smile Dental.']]);
    const session = await app.db.knex('call_sessions').where({ call_sid: callSid }).first();
    expect(session.state).toMatchObject({ agent: 'realtime', greeting: expect.stringContaining('Bright Smile Dental') });
    expect(await app.db.knex('call_logs').where({ call_sid: callSid }).first()).toMatchObject({ status: 'completed' });
    // Logged with the call sid, never the key.
    const lines = logs.filter((line) => line.includes(callSid));
    expect(lines.some((line) => line.includes('realtime bridge ended'))).toBe(true);
    expect(logs.join('\n')).not.toContain(API_KEY);
  });

  it('a tool call answered from the context, and a booking write: function_call_output then response.create; spans per turn and tool; rows land once, in order', async () => {
    const { callSid, client, connection } = await call();
    connection.send(serverEvents.speechStarted('item_u1'));
    connection.send(serverEvents.speechStopped('item_u1', 900));
    connection.send(serverEvents.callerTranscript('item_u1', 'When can I come in?'));
    connection.send(serverEvents.functionCall('call_1', 'find_free_slots', '{"count":2}'));
    const found = await connection.waitFor('conversation.item.create', 1);
    expect(found.item).toMatchObject({ type: 'function_call_output', call_id: 'call_1' });
    const answer = JSON.parse(found.item.type === 'function_call_output' ? found.item.output : '{}') as { slots: Array<{ startsAt: string }>; timezone: string };
    expect(answer.slots).toHaveLength(2);
    expect(answer.timezone).toBeTruthy();
    await connection.waitFor('response.create', 2); // the greeting's, then the tool's
    connection.speak('item_a1', 'resp_2', pattern(0x11, 1600), 'I have two times for you.');

    connection.send(serverEvents.functionCall('call_2', 'book_appointment', JSON.stringify({ startsAt: answer.slots[0]!.startsAt })));
    const booked = await connection.waitFor('conversation.item.create', 2);
    expect(JSON.parse(booked.item.type === 'function_call_output' ? booked.item.output : '{}')).toEqual({
      booked: true,
      startsAt: answer.slots[0]!.startsAt,
      durable: true,
      tell: "The appointment is booked; we'll text to confirm.",
    });
    // The same slot again: refused (held), with an error the model can act on.
    connection.send(serverEvents.functionCall('call_3', 'book_appointment', JSON.stringify({ startsAt: answer.slots[0]!.startsAt })));
    const again = await connection.waitFor('conversation.item.create', 3);
    expect(JSON.parse(again.item.type === 'function_call_output' ? again.item.output : '{}')).toMatchObject({ ok: false, error: expect.stringContaining('not free') });
    // During the call nothing is written.
    expect(await app.db.knex('appointments').where({ call_sid: callSid })).toHaveLength(0);
    await connection.waitFor('response.create', 4);

    await hangUp(callSid, client);
    const spans = expectOneLoadZeroLiveOneTransaction(callSid);
    const live = spans.find((s) => s.name === 'in_live_call')!;
    const turn = spans.find((s) => s.name === 'realtime.turn')!;
    expect(turn.parentSpanContext?.spanId).toBe(live.spanContext().spanId);
    expect(turn.attributes).toMatchObject({ 'realtime.item_id': 'item_u1', 'realtime.turn.answered': true, 'realtime.turn.first_audio_ms': expect.any(Number) });
    const tools = spans.filter((s) => s.name === 'realtime.tool');
    expect(tools.map((s) => [s.attributes['realtime.tool.name'], s.attributes['realtime.tool.ok']])).toEqual([
      ['find_free_slots', true],
      ['book_appointment', true],
      ['book_appointment', false],
    ]);
    expect(tools[0]!.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    expect(live.attributes).toMatchObject({ 'realtime.toolCalls': 3, 'realtime.toolErrors': 1 });

    const appointments = await app.db.knex('appointments').where({ call_sid: callSid });
    expect(appointments).toHaveLength(1);
    expect(new Date(appointments[0].starts_at).toISOString()).toBe(answer.slots[0]!.startsAt);
    const rows = await transcriptOf(callSid);
    expect(rows.map((r) => [r.position, r.role, r.tool_name, r.tool_ok])).toEqual([
      [1, 'caller', null, null],
      [2, 'tool', 'find_free_slots', true],
      [3, 'assistant', null, null],
      [4, 'tool', 'book_appointment', true],
      [5, 'tool', 'book_appointment', false],
    ]);
    expect(rows[0].text).toBe('When can I come in?');
  });

  it('invalid and unknown tool calls get an error output and a new response, never an exception', async () => {
    const { callSid, client, connection } = await call();
    const cases: Array<[string, string, string]> = [
      ['delete_everything', '{}', 'no tool named "delete_everything"'],
      ['book_appointment', '{"startsAt":"tomorrow"}', 'startsAt'],
      ['save_caller_name', '{not json', 'not JSON'],
      ['save_caller_name', '{"name":""}', 'name'],
    ];
    for (const [index, [name, args, error]] of cases.entries()) {
      connection.send(serverEvents.functionCall(`bad_${index}`, name, args));
      const output = await connection.waitFor('conversation.item.create', index + 1);
      expect(JSON.parse(output.item.type === 'function_call_output' ? output.item.output : '{}')).toMatchObject({ ok: false, error: expect.stringContaining(error) });
      await connection.waitFor('response.create', index + 2);
    }
    connection.send(serverEvents.functionCall('good', 'save_caller_name', '{"name":"Janet"}'));
    await connection.waitFor('conversation.item.create', 5);
    await hangUp(callSid, client);
    expectOneLoadZeroLiveOneTransaction(callSid);
    const lead = await app.db.knex('leads').where({ phone: JANE }).first();
    expect(lead.customer_name).toBe('Janet');
    expect((await transcriptOf(callSid)).map((r) => r.tool_ok)).toEqual([false, false, false, false, true]);
  });

  it('barge-in: Twilio clear, and conversation.item.truncate at the position the caller heard (from marks); late audio of the cut item is dropped', async () => {
    const { callSid, client, connection } = await call(JANE, DEMO_NUMBERS.dental, false);
    const streamSid = `MZ${callSid.slice(2)}`;
    connection.speak('item_long', 'resp_long', pattern(0x22, 12_000), 'A long answer the caller will interrupt.'); // 1.5 s in 100 ms deltas
    await client.waitFor((m) => m.event === 'mark' && audioOf(client.received).length >= 12_000);
    const marks = client.received.flatMap((m) => (m.event === 'mark' ? [m.mark.name] : []));
    expect(marks).toHaveLength(15);
    // Twilio played the first 300 ms: it answers the first three marks.
    for (const name of marks.slice(0, 3)) client.sendRaw(JSON.stringify({ event: 'mark', sequenceNumber: '9', streamSid, mark: { name } }));
    // A frame after the marks: once the model has it, the bridge has the marks.
    const probe = pattern(0x55, 160);
    client.media(probe);
    await connection.waitFor('input_audio_buffer.append', 1, (e) => e.audio === probe.toString('base64'));

    connection.send(serverEvents.speechStarted('item_u2', 1_000));
    const truncate = await connection.waitFor('conversation.item.truncate');
    expect(truncate).toEqual({ type: 'conversation.item.truncate', item_id: 'item_long', content_index: 0, audio_end_ms: 300 });
    await client.waitFor((m) => m.event === 'clear');
    const afterClear = client.received.length;
    // A late delta of the cut item is dropped; the next answer plays.
    connection.send(serverEvents.audioDelta('item_long', 'resp_long', pattern(0x22, 800)));
    connection.speak('item_next', 'resp_next', pattern(0x33, 800), 'Sure, go ahead.');
    await client.waitFor((m) => m.event === 'media' && Buffer.from(m.media.payload, 'base64')[0] === 0x33);
    await settle(connection);
    expect(audioOf(client.received.slice(afterClear)).every((byte) => byte === 0x33)).toBe(true);

    await hangUp(callSid, client);
    expectOneLoadZeroLiveOneTransaction(callSid);
    const rows = await transcriptOf(callSid);
    expect(rows.map((r) => [r.role, r.text])).toEqual([
      ['assistant', 'A long answer the caller will interrupt.'],
      ['event', 'caller interrupted: assistant audio truncated at 300 of 1500 ms sent'],
      ['assistant', 'Sure, go ahead.'],
    ]);
  });

  it('the model closing mid-call: the caller hears the fallback, the call goes on, writes and transcript land, the callback is recorded', async () => {
    const before = agent.stats();
    const { callSid, client, connection } = await call();
    connection.speak('item_g', 'resp_g', pattern(0x44, 800), 'Hello Jane.');
    await client.waitFor((m) => m.event === 'media');
    connection.close(1011);
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'lcg-rt-fallback');
    client.media(SILENCE); // the call is still up
    await hangUp(callSid, client);
    expectOneLoadZeroLiveOneTransaction(callSid);
    const session = await app.db.knex('call_sessions').where({ call_sid: callSid }).first();
    expect(session.state).toMatchObject({ callbackRequested: true, modelFailure: 'lost: model socket closed (1011)' });
    expect((await transcriptOf(callSid)).map((r) => [r.role, r.text])).toEqual([
      ['assistant', 'Hello Jane.'],
      ['event', 'model lost: model socket closed (1011)'],
    ]);
    expect(await app.db.knex('call_logs').where({ call_sid: callSid }).first()).toMatchObject({ status: 'completed' });
    const after = agent.stats();
    expect(after.modelLost - before.modelLost).toBe(1);
    expect(after.fallbacks - before.fallbacks).toBe(1);
    expect(logs.some((line) => line.includes(callSid) && line.includes('fallback played'))).toBe(true);
  });

  it('the model refusing (HTTP 429) and failing a response: fallback, counted as rate limits, writes land', async () => {
    const before = agent.stats();
    model.behaviour = { refuseWith: 429 };
    const callSid = newCallSid();
    const { client } = await placeCall(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'lcg-rt-fallback');
    await hangUp(callSid, client);
    expectOneLoadZeroLiveOneTransaction(callSid);
    expect((await app.db.knex('call_sessions').where({ call_sid: callSid }).first()).state).toMatchObject({ modelFailure: 'refused: HTTP 429' });

    model.behaviour = {};
    const second = await call();
    second.connection.send(serverEvents.responseDone('resp_x', 'failed', 'rate_limit_exceeded'));
    await second.client.waitFor((m) => m.event === 'mark' && m.mark.name === 'lcg-rt-fallback');
    await hangUp(second.callSid, second.client);
    const after = agent.stats();
    expect(after.modelRefused - before.modelRefused).toBe(1);
    expect(after.failedResponses - before.failedResponses).toBe(1);
    expect(after.rateLimited - before.rateLimited).toBe(2);
    expect((await transcriptOf(second.callSid)).map((r) => r.text)).toEqual(['model failed_response: response failed: rate_limit_exceeded']);
  });

  it('a slow model: caller audio queued while the socket opens is bounded (drops counted); unplayed model audio is bounded too', async () => {
    const before = agent.stats();
    let release!: () => void;
    model.behaviour = { hold: new Promise<void>((resolve) => (release = resolve)) };
    const callSid = newCallSid();
    const next = model.nextConnection();
    const { client } = await placeCall(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE }, { answerMarks: false });
    const seen = framesSeen(25);
    for (let i = 0; i < 25; i += 1) client.media(pattern(i, 160));
    await seen;
    release();
    const connection = await next;
    const probe = pattern(0x77, 160);
    await connection.waitFor('session.update');
    client.media(probe);
    await connection.waitFor('input_audio_buffer.append', 1, (e) => e.audio === probe.toString('base64'));
    // The first 10 frames (maxQueuedFrames), in order, then the probe.
    expect(connection.of('input_audio_buffer.append').map((e) => Buffer.from(e.audio, 'base64')[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x77]);

    // Nothing played (marks never answered): past 2 s unplayed (maxUnplayedMs), deltas are dropped.
    connection.speak('item_slow', 'resp_slow', pattern(0x66, 24_000), 'Three seconds.');
    await settle(connection);
    await hangUp(callSid, client);
    const heardMs = audioOf(client.received).length / 8;
    expect(heardMs).toBeGreaterThanOrEqual(2_000);
    expect(heardMs).toBeLessThan(3_000);
    const after = agent.stats();
    expect(after.droppedToModel - before.droppedToModel).toBe(15);
    expect(after.droppedToCaller - before.droppedToCaller).toBeGreaterThan(0);
    expectOneLoadZeroLiveOneTransaction(callSid);
  });

  it('malformed and unknown events are counted and ignored: the conversation goes on', async () => {
    const before = agent.stats();
    const { callSid, client, connection } = await call();
    connection.sendRaw('not json');
    connection.sendRaw('{"type":42}');
    connection.sendRaw('{"type":"response.output_audio.delta","delta":5}');
    connection.sendRaw(Buffer.from([1, 2, 3]), true);
    connection.sendRaw('{"type":"response.some_future_event"}');
    connection.send({ type: 'error', event_id: 'e1', error: { type: 'invalid_request_error', message: 'truncate past the end', code: 'invalid_value' } });
    connection.speak('item_ok', 'resp_ok', pattern(0x12, 800), 'Still here.');
    await settle(connection);
    await hangUp(callSid, client);
    const after = agent.stats();
    expect(after.malformedEvents - before.malformedEvents).toBe(4);
    expect(after.unknownEvents - before.unknownEvents).toBe(1);
    expect(after.modelErrors - before.modelErrors).toBe(1);
    expectOneLoadZeroLiveOneTransaction(callSid);
    expect((await transcriptOf(callSid)).map((r) => r.text)).toEqual(['Still here.']);
  });

  it('two concurrent calls are kept apart: own model socket, own instructions, own audio, own rows; a hang-up closes only its model socket', async () => {
    const a = await call(JANE, DEMO_NUMBERS.dental);
    const b = await call(DANA, DEMO_NUMBERS.plumbing);
    const instructions = async (c: ModelConnection) => {
      const session = (await c.waitFor('session.update')).session;
      return session.type === 'realtime' ? session.instructions : '';
    };
    expect(await instructions(a.connection)).toContain('Bright Smile Dental');
    expect(await instructions(b.connection)).toContain('Shalom Plumbing');
    a.connection.speak('item_a', 'resp_a', pattern(0xa1, 1600), 'For A.');
    b.connection.speak('item_b', 'resp_b', pattern(0xb1, 1600), 'For B.');
    a.client.media(pattern(0x0a, 160));
    b.client.media(pattern(0x0b, 160));
    await a.client.waitFor(() => audioOf(a.client.received).length >= 1600);
    await b.client.waitFor(() => audioOf(b.client.received).length >= 1600);
    expect(audioOf(a.client.received).every((byte) => byte === 0xa1)).toBe(true);
    expect(audioOf(b.client.received).every((byte) => byte === 0xb1)).toBe(true);
    expect((await a.connection.waitFor('input_audio_buffer.append')).audio).toBe(pattern(0x0a, 160).toString('base64'));
    expect((await b.connection.waitFor('input_audio_buffer.append')).audio).toBe(pattern(0x0b, 160).toString('base64'));

    await settle(a.connection);
    await settle(b.connection);
    // B's Twilio socket drops without a stop: B's model socket closes; A's stays up.
    b.client.socket.terminate();
    await app.callEnded(b.callSid);
    await b.connection.closed;
    expect(a.connection.socket.readyState).toBe(a.connection.socket.OPEN);
    await hangUp(a.callSid, a.client);
    expectOneLoadZeroLiveOneTransaction(a.callSid);
    expectOneLoadZeroLiveOneTransaction(b.callSid);
    const byCall = Object.fromEntries(
      await Promise.all([a.callSid, b.callSid].map(async (sid) => [sid, (await transcriptOf(sid)).map((r) => [r.business_id, r.text])])),
    );
    const [dental, plumbing] = await Promise.all([
      app.db.knex('businesses').where({ phone_number: DEMO_NUMBERS.dental }).first('id'),
      app.db.knex('businesses').where({ phone_number: DEMO_NUMBERS.plumbing }).first('id'),
    ]);
    expect(byCall[a.callSid]).toEqual([[dental.id, 'For A.']]);
    expect(byCall[b.callSid]).toEqual([[plumbing.id, 'For B.']]);
  });
});
