import { once } from 'node:events';
import net from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../reference/serve.js';
import { loadConfig } from '../../reference/config.js';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import { TwilioStreamClient } from '../../src/testing/twilio-stream-client.js';
import { newCallSid, placeCall, postTwiml, SILENCE, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';
import { createTestDatabase } from '../helpers/database.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';

const JANE = '+15551230001';
const SECRET = 'failure-modes-stream-secret';

let rawStreams = 0;

/** Connects straight to /media (no webhook) and sends a start with the ids given. */
async function rawStart(
  baseUrl: string,
  start: { callSid: string; streamSid?: string; customParameters: Record<string, string> },
): Promise<TwilioStreamClient> {
  const client = await TwilioStreamClient.connect(`${baseUrl.replace('http', 'ws')}/media`);
  client.connected();
  client.start({ streamSid: start.streamSid ?? `MZraw${++rawStreams}`, ...start });
  return client;
}

const isMark = (name: string | RegExp) => (m: { event: string; mark?: { name: string } }) =>
  m.event === 'mark' && (typeof name === 'string' ? m.mark!.name === name : name.test(m.mark!.name));

async function appointmentsOf(app: TestMediaServer, callSid: string): Promise<number> {
  const [{ count }] = (await app.db.knex('appointments').where({ call_sid: callSid }).count({ count: '*' })) as Array<{ count: string }>;
  return Number(count);
}

describe('failure modes: one call cannot take the server down', () => {
  let app: TestMediaServer;
  beforeAll(async () => {
    app = await startMediaServer();
  });
  afterAll(async () => {
    await app.stop();
  });

  it.each([
    ['CA.dot', 'a dot'],
    ['CA/slash/../x', 'slashes'],
    ['CA%41', 'a percent sign'],
  ])('a call sid with %s (%s) is a call like any other: its writes are journaled and land', async (callSid) => {
    const client = await rawStart(app.server.url, { callSid, customParameters: { business_id: '1' } });
    await client.waitFor(isMark('greeting'));
    client.dtmf('1');
    await client.waitFor(isMark('booked'));
    client.stop(callSid);
    expect((await client.closed).code).toBe(1000);
    await app.callEnded(callSid);
    expect(await appointmentsOf(app, callSid)).toBe(1);
  });

  it.each([
    ['a business id past 2^31-1', { callSid: 'CAbig', customParameters: { business_id: '99999999999' } }, /business_id/],
    ['a lead id past 2^31-1', { callSid: 'CAbiglead', customParameters: { business_id: '1', lead_id: '2147483648' } }, /lead_id/],
    [
      'a parameter name of multi-byte letters (a close reason past 123 bytes)',
      { callSid: 'CAutf8', customParameters: { business_id: '1', direction: 'é'.repeat(100) } },
      /invalid customParameters/,
    ],
  ])('%s: closed 1008 naming it; a neighbour call completes', async (_name, start, reason) => {
    const neighbourSid = newCallSid();
    const neighbour = await placeCall(app.server.url, { CallSid: neighbourSid, To: DEMO_NUMBERS.dental, From: JANE });
    await neighbour.client.waitFor(isMark('greeting'));

    const bad = await rawStart(app.server.url, start);
    const closed = await bad.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(reason);

    neighbour.client.dtmf('1');
    await neighbour.client.waitFor(isMark('booked'));
    neighbour.client.stop(neighbourSid);
    expect((await neighbour.client.closed).code).toBe(1000);
    await app.callEnded(neighbourSid);
    expect(await appointmentsOf(app, neighbourSid)).toBe(1);
  });

  it('a start whose call sid is not printable ASCII is dropped as invalid, named, and the server stays up', async () => {
    const problems = app.server.media.stats().problems.invalid;
    for (const callSid of ['CA with space', 'CAé', 'CA\u0000nul']) {
      const client = await rawStart(app.server.url, { callSid, customParameters: { business_id: '1' } });
      client.close();
      await client.closed;
    }
    expect(app.server.media.stats().problems.invalid).toBeGreaterThanOrEqual(problems + 3);
    expect((await fetch(`${app.server.url}/healthz`)).status).toBe(200);
  });
});

describe('failure modes: agents that fail', () => {
  let app: TestMediaServer;
  beforeAll(async () => {
    app = await startMediaServer({}, {
      startCall: (call) => ({
        // An async handler whose promise rejects: the call goes on, nothing is unhandled.
        onDtmf: async (digit) => {
          if (digit === '9') throw new Error('agent bug');
          call.writes.enqueue('updateSession', { state: { digit } });
          call.mark('noted');
        },
        onStop: () => {
          call.writes.enqueue('callOutcome', { status: 'completed', durationSeconds: 1 });
        },
      }),
    });
  });
  afterAll(async () => {
    await app.stop();
  });

  it('an agent handler that rejects is counted and logged; the call goes on and its writes land', async () => {
    const callSid = newCallSid();
    const { client } = await placeCall(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    const before = app.server.media.stats().problems.agent_error;
    client.dtmf('9');
    client.dtmf('4');
    await client.waitFor(isMark('noted'));
    client.stop(callSid);
    expect((await client.closed).code).toBe(1000);
    await app.callEnded(callSid);
    expect(app.server.media.stats().problems.agent_error).toBe(before + 1);
    const session = (await app.db.knex('call_sessions').where({ call_sid: callSid }).first('state')) as { state: { digit: string } };
    expect(session.state.digit).toBe('4');
  });
});

describe('failure modes: a full journal', () => {
  let disk: Tmpfs;
  let app: TestMediaServer;
  beforeAll(async () => {
    disk = mountTmpfs({ sizeKiB: 256 });
    app = await startMediaServer({ JOURNAL_DIR: disk.dir, JOURNAL_FSYNC: 'write' });
  });
  afterAll(async () => {
    await app?.stop();
    disk?.unmount();
  });

  it('mid-call: writes stay in memory and land at call end, the agent is told, /readyz degrades, new calls are refused; all recovers when space returns', async () => {
    const callSid = newCallSid();
    const { client } = await placeCall(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    await client.waitFor(isMark('greeting'));
    client.dtmf('1');
    await client.waitFor(isMark('booked'));

    disk.fill();
    // The journal file's last page still has room for a few lines: note callbacks until a write does not fit.
    let noted = 0;
    while (client.received.filter(isMark('noted-volatile')).length === 0 && noted < 200) {
      client.dtmf('2');
      noted += 1;
      await client.waitFor((m) => m.event === 'mark' && /^noted/.test(m.mark.name) && client.received.filter(isMark(/^noted/)).length === noted);
    }
    expect(client.received.filter(isMark('noted-volatile')).length).toBe(1);
    client.dtmf('1');
    await client.waitFor(isMark('booked-volatile'));
    for (let i = 0; i < 25; i += 1) client.media(SILENCE);

    const ready = await fetch(`${app.server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/journal cannot keep writes.*ENOSPC/) });

    const refused = await postTwiml(app.server.url, { CallSid: newCallSid(), To: DEMO_NUMBERS.dental, From: JANE });
    expect(refused.status).toBe(200);
    expect(refused.body).toContain('<Reject reason="busy"/>');
    await expect(TwilioStreamClient.connect(`${app.server.url.replace('http', 'ws')}/media`)).rejects.toThrow(/503/);

    client.stop(callSid);
    expect((await client.closed).code).toBe(1000);
    await app.callEnded(callSid);
    expect(await appointmentsOf(app, callSid)).toBe(2);
    const session = (await app.db.knex('call_sessions').where({ call_sid: callSid }).first('state')) as { state: Record<string, unknown> };
    expect(session.state).toMatchObject({ callbackRequested: true });

    disk.free();
    // The journal is probed again at most once a second: wait for /readyz to say so.
    const deadline = Date.now() + 10_000;
    let status = 503;
    while (status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await fetch(`${app.server.url}/readyz`)).status;
    }
    expect(status).toBe(200);
    const next = await postTwiml(app.server.url, { CallSid: newCallSid(), To: DEMO_NUMBERS.dental, From: JANE });
    expect(next.stream).toBeDefined();
  });
});

describe('failure modes: a journal that cannot keep writes at start', () => {
  it('a read-only JOURNAL_DIR fails the start with one line naming it and the error', async () => {
    const disk = mountTmpfs({ sizeKiB: 64, readOnly: true });
    const db = await createTestDatabase();
    try {
      const config = loadConfig({ PORT: '0', DATABASE_URL: db.url, JOURNAL_DIR: disk.dir });
      await expect(serve(config, pino({ level: 'silent' }))).rejects.toThrow(new RegExp(`journal directory ${disk.dir}: E[A-Z]+`));
    } finally {
      await db.drop();
      disk.unmount();
    }
  });
});

describe('failure modes: replayed and repeated streams', () => {
  let app: TestMediaServer;
  beforeAll(async () => {
    app = await startMediaServer({ CALL_STREAM_SECRET: SECRET });
  });
  afterAll(async () => {
    await app.stop();
  });

  async function bookOnce(parameters: Record<string, string>, callSid: string, streamSid: string): Promise<{ code: number; reason: string }> {
    const client = await TwilioStreamClient.connect(`${app.server.url.replace('http', 'ws')}/media`);
    client.connected();
    client.start({ callSid, streamSid, customParameters: parameters });
    const greeted = await Promise.race([client.waitFor(isMark('greeting')).then(() => true), client.closed.then(() => false)]);
    if (greeted) {
      client.dtmf('1');
      await client.waitFor(isMark('booked'));
      client.stop(callSid);
    }
    const closed = await client.closed;
    if (greeted) await app.streamEnded(streamSid);
    return closed;
  }

  it('a captured token and start, replayed after the call, is refused (1008) and books nothing; also by another process on the same database', async () => {
    const callSid = newCallSid();
    const { stream } = await postTwiml(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    const streamSid = `MZ${callSid.slice(2)}`;
    expect((await bookOnce(stream!.parameters, callSid, streamSid)).code).toBe(1000);
    expect(await appointmentsOf(app, callSid)).toBe(1);

    const replay = await bookOnce(stream!.parameters, callSid, streamSid);
    expect(replay).toMatchObject({ code: 1008, reason: expect.stringMatching(/replay/) });

    // A second server process on the same database (a restart, or a peer) refuses it too.
    const config = loadConfig({ PORT: '0', DATABASE_URL: app.db.url, JOURNAL_DIR: `${app.journalDir}/peer`, CALL_STREAM_SECRET: SECRET });
    const peer = await serve(config, pino({ level: 'silent' }));
    try {
      const client = await TwilioStreamClient.connect(`${peer.url.replace('http', 'ws')}/media`);
      client.connected();
      client.start({ callSid, streamSid: 'MZanother', customParameters: stream!.parameters });
      expect(await client.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/replay/) });
    } finally {
      await peer.close();
    }
    expect(await appointmentsOf(app, callSid)).toBe(1);
  });

  it('a second /twiml for the same call opens a new stream whose writes land beside the first stream\'s', async () => {
    const callSid = newCallSid();
    const first = await postTwiml(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    expect((await bookOnce(first.stream!.parameters, callSid, 'MZfirst')).code).toBe(1000);
    const second = await postTwiml(app.server.url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });
    expect((await bookOnce(second.stream!.parameters, callSid, 'MZsecond')).code).toBe(1000);
    expect(await appointmentsOf(app, callSid)).toBe(2);
  });
});

describe('failure modes: replay without a stream secret', () => {
  let app: TestMediaServer;
  beforeAll(async () => {
    app = await startMediaServer();
  });
  afterAll(async () => {
    await app.stop();
  });

  it('a start replayed with the same stream sid is refused (1008)', async () => {
    const callSid = newCallSid();
    const first = await rawStart(app.server.url, { callSid, streamSid: 'MZonce', customParameters: { business_id: '1' } });
    await first.waitFor(isMark('greeting'));
    first.stop(callSid);
    await first.closed;
    await app.callEnded(callSid);
    const replay = await rawStart(app.server.url, { callSid, streamSid: 'MZonce', customParameters: { business_id: '1' } });
    expect(await replay.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/replay/) });
  });
});

describe('failure modes: HTTP hygiene', () => {
  let app: TestMediaServer;
  beforeAll(async () => {
    app = await startMediaServer();
  });
  afterAll(async () => {
    await app.stop();
  });

  it.each([
    ['From', { From: 'a\u0000b' }],
    ['To', { To: '+1500\u0007555' }],
    ['CallSid', { CallSid: 'CA\u0000' }],
  ])('a control character in %s is a 400 naming the field', async (field, bad) => {
    const answer = await postTwiml(app.server.url, { CallSid: newCallSid(), To: DEMO_NUMBERS.dental, From: JANE, ...bad });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain(field);
  });

  it('a connection that never sends a request is closed by the server in seconds', async () => {
    const { port } = new URL(app.server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => {});
    await once(socket, 'close');
    expect(socket.destroyed).toBe(true);
  }, 20_000);
});
