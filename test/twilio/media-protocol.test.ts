import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import type { TwilioStreamClient } from '../../src/testing/twilio-stream-client.js';
import { newCallSid, placeCall, postTwiml, SILENCE, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';
import { TwilioStreamClient as Client } from '../../src/testing/twilio-stream-client.js';

const JANE = '+15551230001';

/** A bad input, and what it must lead to. */
interface Case {
  name: string;
  /** Sent once the call is live (or, with `beforeStart`, right after connecting). */
  send: (client: TwilioStreamClient, streamSid: string) => void;
  beforeStart?: boolean;
  /** `dropped`: logged, counted, the call goes on and its writes land. Else the close code. */
  outcome: 'dropped' | { code: number; reason?: RegExp };
}

const CASES: Case[] = [
  { name: 'not JSON', send: (c) => c.sendRaw('{"event": "media", oops'), outcome: 'dropped' },
  { name: 'missing fields', send: (c, sid) => c.sendRaw(JSON.stringify({ event: 'media', streamSid: sid, media: {} })), outcome: 'dropped' },
  {
    name: 'wrong types',
    send: (c, sid) => c.sendRaw(JSON.stringify({ event: 'dtmf', streamSid: sid, dtmf: { digit: 42 } })),
    outcome: 'dropped',
  },
  { name: 'unknown event', send: (c, sid) => c.sendRaw(JSON.stringify({ event: 'teleport', streamSid: sid })), outcome: 'dropped' },
  { name: 'media before start', send: (c) => c.media(SILENCE), beforeStart: true, outcome: 'dropped' },
  {
    name: 'second start',
    send: (c, sid) =>
      c.sendRaw(JSON.stringify({ event: 'start', streamSid: sid, start: { streamSid: sid, callSid: 'CAother', customParameters: {} } })),
    outcome: { code: 1008, reason: /second start/ },
  },
  {
    name: 'another streamSid',
    send: (c) => c.sendRaw(JSON.stringify({ event: 'dtmf', streamSid: 'MZsomeoneelse', dtmf: { digit: '1' } })),
    outcome: { code: 1008, reason: /another streamSid/ },
  },
  { name: 'binary frame', send: (c) => c.sendRaw(Buffer.from([1, 2, 3]), true), outcome: { code: 1003 } },
  { name: '1 MiB frame', send: (c) => c.sendRaw('x'.repeat(1 << 20)), outcome: { code: 1009 } },
  {
    name: 'a flood of messages',
    send: (c) => {
      for (let i = 0; i < 2000; i += 1) c.media(SILENCE);
    },
    outcome: { code: 1008, reason: /message rate exceeded/ },
  },
];

describe('media-stream protocol: bad input', () => {
  let app: TestMediaServer;

  beforeAll(async () => {
    app = await startMediaServer();
  });
  afterAll(async () => {
    await app.stop();
  });

  it.each(CASES)('$name → $outcome, the server stays up, a concurrent call completes with its writes', async (testCase) => {
    // A well-behaved call runs alongside the bad one.
    const goodSid = newCallSid();
    const good = await placeCall(app.server.url, { CallSid: goodSid, To: DEMO_NUMBERS.dental, From: JANE });
    await good.client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');

    const badSid = newCallSid();
    const streamSid = `MZ${badSid.slice(2)}`;
    const { stream } = await postTwiml(app.server.url, { CallSid: badSid, To: DEMO_NUMBERS.dental, From: JANE });
    const bad = await Client.connect(stream!.url);
    bad.connected();
    if (testCase.beforeStart) testCase.send(bad, streamSid);
    bad.start({ callSid: badSid, streamSid, customParameters: stream!.parameters });
    await bad.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
    const problemsBefore = app.server.media.stats().problems;
    if (!testCase.beforeStart) testCase.send(bad, streamSid);

    if (testCase.outcome === 'dropped') {
      bad.dtmf('1');
      await bad.waitFor((m) => m.event === 'mark' && m.mark.name === 'booked');
      const problems = app.server.media.stats().problems;
      if (!testCase.beforeStart) expect(problems.invalid + problems.out_of_order).toBeGreaterThan(problemsBefore.invalid + problemsBefore.out_of_order);
      bad.stop(badSid);
      expect((await bad.closed).code).toBe(1000);
    } else {
      const closed = await bad.closed;
      expect(closed.code).toBe(testCase.outcome.code);
      if (testCase.outcome.reason) expect(closed.reason).toMatch(testCase.outcome.reason);
    }

    // The good call goes on: it books, stops, and its writes land.
    good.client.media(SILENCE);
    good.client.dtmf('1');
    await good.client.waitFor((m) => m.event === 'mark' && m.mark.name === 'booked');
    good.client.stop(goodSid);
    expect((await good.client.closed).code).toBe(1000);
    expect(await app.server.media.settled(5000)).toBe(true); // every session of this case is done and flushed
    expect(await app.db.knex('appointments').where({ call_sid: goodSid })).toHaveLength(1);
    expect(await app.db.knex('call_logs').where({ call_sid: goodSid }).first('status')).toEqual({ status: 'completed' });
    // The bad call's writes landed too, whether it was closed or ended normally.
    expect(await app.db.knex('call_sessions').where({ call_sid: badSid })).toHaveLength(1);
    expect((await fetch(`${app.server.url}/healthz`)).status).toBe(200);
  });

  it('ends a peer that stops answering pings, and still lands its writes', async () => {
    const server = await startMediaServer({}, undefined, { heartbeatIntervalMs: 50 });
    try {
      const callSid = newCallSid();
      const { client } = await placeCall(server.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
      // Live first (however long the load took), then dead.
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
      client.stopAnsweringPings();
      expect((await client.closed).code).toBe(1006); // terminated: no close frame
      expect(await server.server.media.settled(5000)).toBe(true);
      // The greeting the agent buffered at start landed with the call's end.
      const session = await server.db.knex('call_sessions').where({ call_sid: callSid }).first('state');
      expect(session.state.greeting).toContain('Jane');
    } finally {
      await server.stop();
    }
  });

  it('counts the message rate in windows of at least a second: a stream under the rate goes on past the limit\'s count, a burst is closed (1008)', async () => {
    const server = await startMediaServer({}, undefined, { maxMessagesPerSecond: 20 });
    try {
      const callSid = newCallSid();
      const { client } = await placeCall(server.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
      // connected, start and 15 frames; a second later 15 more and a DTMF: 33 messages, never 20 within a second.
      for (let i = 0; i < 15; i += 1) client.media(SILENCE);
      await new Promise((resolve) => setTimeout(resolve, 1_050)); // the passing second is the input here
      for (let i = 0; i < 15; i += 1) client.media(SILENCE);
      client.dtmf('1');
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'booked');
      // 100 at once: past 20 within the window, whether or not a new one started.
      for (let i = 0; i < 100; i += 1) client.media(SILENCE);
      const closed = await client.closed;
      expect(closed.code).toBe(1008);
      expect(closed.reason).toMatch(/message rate exceeded/);
      expect(await server.server.media.settled(5000)).toBe(true);
      expect(await server.db.knex('appointments').where({ call_sid: callSid })).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  it('closes a stream that sends no start within the limit (1008)', async () => {
    const slow = await startMediaServer({}, undefined, { startTimeoutMs: 50 });
    try {
      const client = await Client.connect(`${slow.server.url.replace('http', 'ws')}/media`);
      client.connected();
      expect(await client.closed).toEqual({ code: 1008, reason: 'no start within 50 ms' });
    } finally {
      await slow.stop();
    }
  });
});

describe('graceful drain', () => {
  it('turns /readyz 503 and refuses upgrades at once, lets live calls finish, flushes them, then closes', async () => {
    const app = await startMediaServer({ DRAIN_TIMEOUT_S: '30' });
    try {
      const callSid = newCallSid();
      const { client } = await placeCall(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
      const closing = app.server.close();
      const ready = await fetch(`${app.server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'draining', calls: { liveCalls: 1 } });
      const refused = await Client.connect(`${app.server.url.replace('http', 'ws')}/media`).then(
        () => 'opened',
        (error: { status?: number }) => error.status,
      );
      expect(refused).toBe(503);

      client.dtmf('1');
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'booked');
      client.stop(callSid);
      await closing;
      expect(await app.db.knex('appointments').where({ call_sid: callSid })).toHaveLength(1);
    } finally {
      await app.stop();
    }
  });

  it('ends calls that outlive the drain timeout (1001) and still lands their writes', async () => {
    const app = await startMediaServer({ DRAIN_TIMEOUT_S: '0' });
    try {
      const callSid = newCallSid();
      const { client } = await placeCall(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting');
      client.dtmf('1');
      await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'booked');
      await app.server.close();
      expect(await client.closed).toEqual({ code: 1001, reason: 'server shutting down' });
      expect(await app.db.knex('appointments').where({ call_sid: callSid })).toHaveLength(1);
    } finally {
      await app.stop();
    }
  });
});
