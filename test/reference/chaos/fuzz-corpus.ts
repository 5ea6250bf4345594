/**
 * Bad Twilio Media Streams input, as data: what an attacker, a buggy peer or
 * a proxy could send. Grown from the table in test/app/media-protocol.test.ts;
 * shareable by any test (it imports nothing of the server).
 *
 * Whatever a case sends, the server must stay up, and a call beside it must
 * complete with its writes.
 */

/** A text frame, or a binary one. */
export type FuzzFrame = string | { readonly binary: Buffer };

export interface FuzzContext {
  /** A fresh call sid the webhook answered (for `live` cases), else one of the harness's. */
  readonly callSid: string;
  readonly streamSid: string;
  /** The webhook's stream parameters for `callSid` (business_id, direction, token...). */
  readonly parameters: Readonly<Record<string, string>>;
  /** A valid stream token for these claims (the harness holds CALL_STREAM_SECRET); undefined without a secret. */
  sign(claims: { callSid: string; parameters: Record<string, string> }): string | undefined;
}

export interface FuzzCase {
  readonly name: string;
  /**
   * - `before-start`: frames on a fresh socket, no start.
   * - `start`: the frames are (or contain) the start message itself.
   * - `live`: after a valid start, once the call is live.
   */
  readonly stage: 'before-start' | 'start' | 'live';
  frames(ctx: FuzzContext): FuzzFrame[];
}

/** A start message as Twilio sends it, with the fields given. */
export function startFrame(streamSid: string, callSid: string, customParameters: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    streamSid,
    start: {
      accountSid: 'ACfuzz',
      streamSid,
      callSid,
      tracks: ['inbound'],
      customParameters,
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      ...extra,
    },
  });
}

const media = (streamSid: string, payload = '/w=='): string =>
  JSON.stringify({ event: 'media', streamSid, media: { track: 'inbound', chunk: '1', timestamp: '20', payload } });

/** A start for `callSid` and business `businessId`, with a token the harness signed for exactly those claims. */
function signedStart(callSid: string, business?: string, extraParameters: Record<string, string> = {}): (ctx: FuzzContext) => FuzzFrame[] {
  return (ctx) => {
    const businessId = business ?? ctx.parameters.business_id ?? '1';
    const parameters: Record<string, string> = { business_id: businessId, direction: 'inbound', ...extraParameters };
    const token = ctx.sign({ callSid, parameters });
    return [startFrame(`MZ${ctx.streamSid.slice(2, 20)}f`, callSid, { ...parameters, ...(token ? { token } : {}) })];
  };
}

/** Call sids the protocol schema accepts (1-64 characters) that are not [A-Za-z0-9_-]: not filenames as they are. */
const ODD_CALL_SIDS: ReadonlyArray<[string, string]> = [
  ['a dot', 'CA.dot'],
  ['a slash', 'CA/slash'],
  ['a path', 'CA/../../etc'],
  ['a space', 'CA space'],
  ['non-ASCII', 'CAé日本'],
  ['a NUL byte', 'CA\u0000nul'],
  ['a newline', 'CA\nline'],
  ['64 characters', `CA${'x'.repeat(62)}`],
];

export const FUZZ_CORPUS: readonly FuzzCase[] = [
  // Frames before any start.
  { name: 'not JSON', stage: 'before-start', frames: () => ['{"event": "media", oops'] },
  { name: 'empty frame', stage: 'before-start', frames: () => [''] },
  { name: 'JSON null, number, array, string', stage: 'before-start', frames: () => ['null', '42', '[]', '"start"'] },
  { name: 'unknown event', stage: 'before-start', frames: (c) => [JSON.stringify({ event: 'teleport', streamSid: c.streamSid })] },
  { name: 'event of the wrong type', stage: 'before-start', frames: () => [JSON.stringify({ event: { $gt: '' } })] },
  { name: '__proto__ keys', stage: 'before-start', frames: () => ['{"__proto__":{"polluted":true},"event":"connected","constructor":{"prototype":{"x":1}}}'] },
  { name: 'deeply nested JSON', stage: 'before-start', frames: () => [`${'['.repeat(5000)}${']'.repeat(5000)}`] },
  { name: 'media before start', stage: 'before-start', frames: (c) => [media(c.streamSid)] },
  { name: 'stop before start', stage: 'before-start', frames: (c) => [JSON.stringify({ event: 'stop', streamSid: c.streamSid, stop: { callSid: c.callSid } })] },
  { name: 'binary frame', stage: 'before-start', frames: () => [{ binary: Buffer.from([0, 1, 2, 0xff]) }] },
  { name: '1 MiB frame', stage: 'before-start', frames: () => ['x'.repeat(1 << 20)] },
  { name: 'invalid UTF-8 text', stage: 'before-start', frames: () => [{ binary: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) }] },

  // Starts: malformed, unauthenticated, and signed ones with ids the journal cannot name a file after.
  { name: 'start without start', stage: 'start', frames: (c) => [JSON.stringify({ event: 'start', streamSid: c.streamSid })] },
  { name: 'start with wrong types', stage: 'start', frames: (c) => [startFrame(c.streamSid, 42 as unknown as string, 'params')] },
  { name: 'start without token', stage: 'start', frames: (c) => [startFrame(c.streamSid, c.callSid, { business_id: c.parameters.business_id ?? '1' })] },
  { name: 'start with a malformed token', stage: 'start', frames: (c) => [startFrame(c.streamSid, c.callSid, { ...c.parameters, token: 'v1.x.y' })] },
  {
    name: 'start with another call’s token',
    stage: 'start',
    frames: (c) => [startFrame(c.streamSid, 'CAsomeoneelse0001', c.parameters)],
  },
  { name: 'start with 65-character call sid', stage: 'start', frames: (c) => [startFrame(c.streamSid, `CA${'x'.repeat(63)}`, c.parameters)] },
  { name: 'start with an empty streamSid', stage: 'start', frames: (c) => [startFrame('', c.callSid, c.parameters)] },
  { name: 'start with a huge customParameter', stage: 'start', frames: (c) => [startFrame(c.streamSid, c.callSid, { ...c.parameters, x: 'y'.repeat(60_000) })] },
  ...ODD_CALL_SIDS.map(([what, sid]): FuzzCase => ({ name: `signed start, call sid with ${what}`, stage: 'start', frames: signedStart(sid) })),
  { name: 'signed start, business_id 2^31', stage: 'start', frames: signedStart('CAfuzzbig2147483648', '2147483648') },
  { name: 'signed start, business_id 9999999999', stage: 'start', frames: signedStart('CAfuzzbig9999999999', '9999999999') },
  { name: 'start, business_id 99999999999', stage: 'start', frames: signedStart('CAfuzzbig99999999999', '99999999999') },
  { name: 'signed start, business_id 0', stage: 'start', frames: signedStart('CAfuzzzero', '0') },
  { name: 'signed start, unknown business', stage: 'start', frames: signedStart('CAfuzznobody', '999999') },
  {
    name: 'signed start, lead_id 2^31',
    stage: 'start',
    frames: (c) => {
      const parameters: Record<string, string> = { business_id: c.parameters.business_id ?? '1', lead_id: '2147483648' };
      const token = c.sign({ callSid: 'CAfuzzlead', parameters });
      return [startFrame(c.streamSid, 'CAfuzzlead', { ...parameters, ...(token ? { token } : {}) })];
    },
  },
  {
    name: 'start twice at once',
    stage: 'start',
    frames: (c) => [startFrame(c.streamSid, c.callSid, c.parameters), startFrame(c.streamSid, c.callSid, c.parameters)],
  },

  // Once the call is live.
  {
    name: 'second start',
    stage: 'live',
    frames: (c) => [startFrame(c.streamSid, 'CAother', {})],
  },
  { name: 'another streamSid', stage: 'live', frames: () => [JSON.stringify({ event: 'dtmf', streamSid: 'MZsomeoneelse', dtmf: { digit: '1' } })] },
  { name: 'wrong types', stage: 'live', frames: (c) => [JSON.stringify({ event: 'dtmf', streamSid: c.streamSid, dtmf: { digit: 42 } })] },
  { name: 'missing fields', stage: 'live', frames: (c) => [JSON.stringify({ event: 'media', streamSid: c.streamSid, media: {} })] },
  { name: 'payload not base64', stage: 'live', frames: (c) => [media(c.streamSid, '***not base64***')] },
  { name: 'odd-sized audio', stage: 'live', frames: (c) => [media(c.streamSid, Buffer.alloc(7, 0x7f).toString('base64'))] },
  { name: 'mark the server never sent', stage: 'live', frames: (c) => [JSON.stringify({ event: 'mark', streamSid: c.streamSid, mark: { name: 'x'.repeat(300) } })] },
  { name: 'dtmf that is not a digit', stage: 'live', frames: (c) => [JSON.stringify({ event: 'dtmf', streamSid: c.streamSid, dtmf: { digit: '1; drop table appointments' } })] },
  { name: 'binary frame while live', stage: 'live', frames: () => [{ binary: Buffer.alloc(160, 0xff) }] },
  { name: 'a flood of messages', stage: 'live', frames: (c) => Array.from({ length: 1200 }, () => media(c.streamSid)) },
];
