import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStreamToken } from '../../src/twilio/stream-token.js';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import { TwilioStreamClient } from '../../src/testing/twilio-stream-client.js';
import { newCallSid, postTwiml, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';

const AUTH_TOKEN = 'test-auth-token-0123456789';
const PUBLIC_URL = 'https://voice.example.test';
const SECRET = 'stream-secret-0123456789abcdef';
const JANE = '+15551230001';

const withoutToken = ({ token: _token, ...parameters }: Record<string, string>): Record<string, string> => parameters;

const sign = (url: string, params: Record<string, string> = {}, token = AUTH_TOKEN): string =>
  twilio.getExpectedTwilioSignature(token, url, params);

describe('media-stream server security', () => {
  let app: TestMediaServer;
  let local: string;
  let wsUrl: string;

  beforeAll(async () => {
    app = await startMediaServer({ TWILIO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_URL: PUBLIC_URL, CALL_STREAM_SECRET: SECRET });
    local = app.server.url;
    wsUrl = `${local.replace('http', 'ws')}/media`;
  });
  afterAll(async () => {
    await app.stop();
  });

  describe('POST /twiml signature', () => {
    const form = (callSid: string) => ({ CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE });

    it.each([
      ['missing', () => undefined],
      ['wrong', () => 'bm90IGEgc2lnbmF0dXJl'],
      ['over another URL', (f: Record<string, string>) => sign('https://attacker.example/twiml', f)],
      ['made with another token', (f: Record<string, string>) => sign(`${PUBLIC_URL}/twiml`, f, 'another-token-123')],
      ['over other parameters', (f: Record<string, string>) => sign(`${PUBLIC_URL}/twiml`, { ...f, From: '+19999999999' })],
    ])('is refused with 403 when %s, and records nothing', async (_label, signature) => {
      const callSid = newCallSid();
      const fields = form(callSid);
      const value = signature(fields);
      const answer = await postTwiml(local, fields, value ? { 'x-twilio-signature': value } : {});
      expect(answer.status).toBe(403);
      expect(await app.db.knex('call_logs').where({ call_sid: callSid })).toHaveLength(0);
    });

    it('is accepted when valid: the Stream URL is the public wss:// URL, with a signed token', async () => {
      const fields = form(newCallSid());
      const answer = await postTwiml(local, fields, { 'x-twilio-signature': sign(`${PUBLIC_URL}/twiml`, fields) });
      expect(answer.status).toBe(200);
      expect(answer.stream?.url).toBe('wss://voice.example.test/media');
      expect(answer.stream?.parameters).toMatchObject({ business_id: expect.any(String), direction: 'inbound', token: expect.stringMatching(/^v2\./) });
    });
  });

  describe('WebSocket upgrade signature', () => {
    const refused = (headers: Record<string, string>) =>
      TwilioStreamClient.connect(wsUrl, { headers }).then(
        () => 'opened',
        (error: { status?: number }) => error.status,
      );

    it.each([
      ['missing', {}],
      ['wrong', { 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' }],
      ['over another URL', { 'x-twilio-signature': sign('wss://attacker.example/media') }],
      ['over the URL with a query string', { 'x-twilio-signature': sign('wss://voice.example.test/media?x=1') }],
      ['made with another token', { 'x-twilio-signature': sign('wss://voice.example.test/media', {}, 'another-token-123') }],
    ])('is refused with 403 before the upgrade when %s', async (_label, headers) => {
      const before = app.server.media.stats().sessions;
      expect(await refused(headers)).toBe(403);
      expect(app.server.media.stats().sessions).toBe(before);
    });

    it('opens (101) with a signature over the exact public wss:// URL', async () => {
      const client = await TwilioStreamClient.connect(wsUrl, { headers: { 'x-twilio-signature': sign('wss://voice.example.test/media') } });
      client.close();
      await client.closed;
    });
  });

  describe('stream token', () => {
    async function startWith(callSid: string, customParameters: Record<string, string>) {
      const client = await TwilioStreamClient.connect(wsUrl, { headers: { 'x-twilio-signature': sign('wss://voice.example.test/media') } });
      client.connected();
      client.start({ callSid, streamSid: `MZ${callSid.slice(2)}`, customParameters });
      return client.closed;
    }

    async function twimlParameters(callSid: string, to: string = DEMO_NUMBERS.dental, from = JANE) {
      const fields = { CallSid: callSid, To: to, From: from };
      const answer = await postTwiml(local, fields, { 'x-twilio-signature': sign(`${PUBLIC_URL}/twiml`, fields) });
      return answer.stream!.parameters;
    }

    it('refuses a start without a token with 1008, before any query or write', async () => {
      const callSid = newCallSid();
      const params = await twimlParameters(callSid);
      const { token: _token, ...withoutToken } = params;
      expect(await startWith(callSid, withoutToken)).toEqual({ code: 1008, reason: 'missing stream token' });
      expect(await app.db.knex('call_sessions').where({ call_sid: callSid })).toHaveLength(0);
    });

    it('refuses the token of another call (1008)', async () => {
      const params = await twimlParameters(newCallSid());
      const other = newCallSid();
      expect((await startWith(other, params)).code).toBe(1008);
      expect(await app.db.knex('call_sessions').where({ call_sid: other })).toHaveLength(0);
    });

    it("refuses a token presented with another business's id (1008, cross-tenant)", async () => {
      const callSid = newCallSid();
      const params = await twimlParameters(callSid);
      const plumbing = await app.db.knex('businesses').where({ phone_number: DEMO_NUMBERS.plumbing }).first('id');
      const closed = await startWith(callSid, { ...params, business_id: String(plumbing.id) });
      expect(closed).toEqual({ code: 1008, reason: 'stream token does not match this call and its parameters' });
      expect(await app.db.knex('call_sessions').where({ call_sid: callSid })).toHaveLength(0);
    });

    it('refuses an expired token (1008)', async () => {
      const callSid = newCallSid();
      const params = await twimlParameters(callSid);
      const expired = createStreamToken(SECRET, { callSid, parameters: withoutToken(params) }, -1);
      expect(await startWith(callSid, { ...params, token: expired })).toEqual({ code: 1008, reason: 'stream token expired' });
    });

    it('allows one live stream per call sid', async () => {
      const callSid = newCallSid();
      const params = await twimlParameters(callSid);
      const first = await TwilioStreamClient.connect(wsUrl, { headers: { 'x-twilio-signature': sign('wss://voice.example.test/media') } });
      first.connected();
      first.start({ callSid, streamSid: `MZ${callSid.slice(2)}`, customParameters: params });
      await first.waitFor((m) => m.event === 'mark');
      expect(await startWith(callSid, params)).toEqual({ code: 1008, reason: 'a stream for this call is already live' });
      first.stop(callSid);
      expect((await first.closed).code).toBe(1000);
    });
  });
});
