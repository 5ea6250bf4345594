import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_NUMBERS } from '../../reference/db/seed.js';
import { TwilioStreamClient } from '../../src/testing/twilio-stream-client.js';
import { newCallSid, placeCall, postTwiml, SILENCE, startMediaServer, type TestMediaServer } from '../helpers/media-server.js';

const LIMIT = 5;
const JANE = '+15551230001';

/** A call placed to the live phase (greeting heard), or how it was turned away. */
async function tryCall(base: string): Promise<{ live: Awaited<ReturnType<typeof placeCall>> } | { refused: string }> {
  const callSid = newCallSid();
  const form = { CallSid: callSid, To: DEMO_NUMBERS.dental, From: JANE, Direction: 'inbound' };
  const { body, stream } = await postTwiml(base, form);
  if (!stream) {
    expect(body).toContain('<Reject reason="busy"/>');
    return { refused: 'twiml busy' };
  }
  let client: TwilioStreamClient;
  try {
    client = await TwilioStreamClient.connect(stream.url);
  } catch (error) {
    expect((error as { status?: number }).status).toBe(503);
    return { refused: 'upgrade 503' };
  }
  client.connected();
  client.start({ callSid, streamSid: `MZ${callSid.slice(2)}`, customParameters: stream.parameters });
  const first = await Promise.race([
    client.waitFor((m) => m.event === 'mark' && m.mark.name === 'greeting').then(() => 'live' as const),
    client.closed.then(({ code }) => code),
  ]);
  if (first !== 'live') {
    expect(first).toBe(1013);
    return { refused: 'start 1013' };
  }
  return { live: { client, callSid, stream } };
}

describe(`overload: MAX_LIVE_CALLS=${LIMIT}`, () => {
  let app: TestMediaServer;
  let base: string;

  beforeAll(async () => {
    app = await startMediaServer({ MAX_LIVE_CALLS: String(LIMIT) });
    base = app.server.url;
  });
  afterAll(async () => {
    await app.stop();
  });

  it('at 2x the limit: the calls in progress all answer their DTMF and end cleanly, the excess is refused, /readyz says why', async () => {
    // 2x the limit at once: which ones get in is a race; how many is not.
    const attempts = await Promise.all(Array.from({ length: 2 * LIMIT }, () => tryCall(base)));
    const live = attempts.flatMap((a) => ('live' in a ? [a.live] : []));
    const refused = attempts.flatMap((a) => ('refused' in a ? [a.refused] : []));
    expect(live).toHaveLength(LIMIT);
    expect(refused).toHaveLength(LIMIT);

    // At the limit: more calls are refused, at the webhook and at the upgrade.
    const busy = await postTwiml(base, { CallSid: newCallSid(), To: DEMO_NUMBERS.dental, From: JANE, Direction: 'inbound' });
    expect(busy.body).toContain('<Reject reason="busy"/>');
    await expect(TwilioStreamClient.connect(live[0]!.stream.url)).rejects.toMatchObject({ status: 503 });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/at capacity \(5 live calls\)/) });

    // The calls in progress: audio, a DTMF answered, a clean end.
    await Promise.all(
      live.map(async ({ client, callSid }) => {
        for (let i = 0; i < 10; i += 1) client.media(SILENCE);
        client.dtmf('3');
        await client.waitFor((m) => m.event === 'mark' && m.mark.name === 'noted');
        client.stop(callSid);
        expect((await client.closed).code).toBe(1000);
        await app.callEnded(callSid);
      }),
    );
    const stats = app.server.media.stats();
    expect(stats.refused.twiml + stats.refused.upgrade + stats.refused.start).toBe(LIMIT + 2);
    expect(stats.refused.twiml).toBeGreaterThanOrEqual(1);
    expect(stats.refused.upgrade).toBeGreaterThanOrEqual(1);
    expect(stats.problems.internal_error).toBe(0);

    // Below the limit again: a new call is taken.
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const again = await tryCall(base);
    expect('live' in again).toBe(true);
    if ('live' in again) {
      again.live.client.stop(again.live.callSid);
      expect((await again.live.client.closed).code).toBe(1000);
      await app.callEnded(again.live.callSid);
    }
  });
});
