import { describe, expect, it } from 'vitest';
import { inboundMessage, isPlainMediaMessage, mediaMessageOf, validateInboundMessage } from '../../src/twilio/twilio-messages.js';
import { describeZodError } from '../../src/zod-error.js';

// The media fast path (isPlainMediaMessage) must accept only what zod's
// schema accepts, return what zod returns, and leave every rejection (and
// its message) to zod. Each row goes through both.

const SID = 'MZ0123456789abcdef0123456789abcdef';
const PAYLOAD = Buffer.from(Array.from({ length: 160 }, (_, i) => i)).toString('base64');
const media = (fields: Record<string, unknown> = {}, mediaFields: Record<string, unknown> = {}): Record<string, unknown> => ({
  event: 'media',
  sequenceNumber: '3',
  streamSid: SID,
  media: { track: 'inbound', chunk: '2', timestamp: '40', payload: PAYLOAD, ...mediaFields },
  ...fields,
});
const without = (value: Record<string, unknown>, key: string): Record<string, unknown> => {
  const copy = { ...value };
  delete copy[key];
  return copy;
};
const withoutMedia = (key: string): Record<string, unknown> => {
  const message = media();
  return { ...message, media: without(message.media as Record<string, unknown>, key) };
};

/** [name, message, whether the fast path takes it (true) or leaves it to zod (false)] */
const TABLE: Array<[string, unknown, boolean]> = [
  ['a Twilio media frame', media(), true],
  ['no sequenceNumber', without(media(), 'sequenceNumber'), true],
  ['no track, chunk, timestamp', { event: 'media', streamSid: SID, media: { payload: PAYLOAD } }, true],
  ['empty payload', media({}, { payload: '' }), true],
  ['payload with one =', media({}, { payload: 'AAE=' }), true],
  ['payload with two =', media({}, { payload: 'AA==' }), true],
  ['payload of exactly 16 KiB', media({}, { payload: 'A'.repeat(16 * 1024) }), true],
  ['payload of 16 KiB + 1', media({}, { payload: 'A'.repeat(16 * 1024 + 1) }), false],
  ['payload with three =', media({}, { payload: 'A===' }), false],
  ['payload with = inside', media({}, { payload: 'A=A=' }), false],
  ['payload only ==', media({}, { payload: '==' }), true],
  ['payload with a space', media({}, { payload: 'AA AA' }), false],
  ['payload with a newline', media({}, { payload: 'AAAA\n' }), false],
  ['payload url-safe base64 (- _)', media({}, { payload: 'ab-_' }), false],
  ['payload with a non-ASCII letter', media({}, { payload: 'AAé=' }), false],
  ['payload a number', media({}, { payload: 42 }), false],
  ['payload null', media({}, { payload: null }), false],
  ['no payload', withoutMedia('payload'), false],
  ['media null', media({ media: null }), false],
  ['media an array', media({ media: [PAYLOAD] }), false],
  ['media a string', media({ media: PAYLOAD }), false],
  ['no media', without(media(), 'media'), false],
  ['streamSid of 64 characters', media({ streamSid: 'M'.repeat(64) }), true],
  ['streamSid of 65 characters', media({ streamSid: 'M'.repeat(65) }), false],
  ['streamSid of 1 character', media({ streamSid: '!' }), true],
  ['streamSid of ~', media({ streamSid: '~~' }), true],
  ['empty streamSid', media({ streamSid: '' }), false],
  ['streamSid with a space', media({ streamSid: 'MZ 1' }), false],
  ['streamSid with DEL', media({ streamSid: 'MZ\x7f' }), false],
  ['streamSid with a tab', media({ streamSid: 'MZ\t1' }), false],
  ['streamSid with a newline at the end', media({ streamSid: 'MZ1\n' }), false],
  ['streamSid non-ASCII', media({ streamSid: 'MZé' }), false],
  ['streamSid a number', media({ streamSid: 12 }), false],
  ['no streamSid', without(media(), 'streamSid'), false],
  ['sequenceNumber as a number (zod takes it)', media({ sequenceNumber: 3 }), false],
  ['sequenceNumber negative number', media({ sequenceNumber: -1 }), false],
  ['sequenceNumber 1.5', media({ sequenceNumber: 1.5 }), false],
  ['sequenceNumber empty string', media({ sequenceNumber: '' }), false],
  ['sequenceNumber "-1"', media({ sequenceNumber: '-1' }), false],
  ['sequenceNumber "1e3"', media({ sequenceNumber: '1e3' }), false],
  ['sequenceNumber " 1"', media({ sequenceNumber: ' 1' }), false],
  ['sequenceNumber Arabic-Indic digit', media({ sequenceNumber: '١' }), false],
  ['sequenceNumber leading zeros', media({ sequenceNumber: '0007' }), true],
  ['sequenceNumber huge', media({ sequenceNumber: '9'.repeat(40) }), true],
  ['sequenceNumber null', media({ sequenceNumber: null }), false],
  ['chunk "x"', media({}, { chunk: 'x' }), false],
  ['chunk as a number', media({}, { chunk: 2 }), false],
  ['timestamp "12.5"', media({}, { timestamp: '12.5' }), false],
  ['timestamp null', media({}, { timestamp: null }), false],
  ['track of 256 characters', media({}, { track: 't'.repeat(256) }), true],
  ['track of 257 characters', media({}, { track: 't'.repeat(257) }), false],
  ['track a number', media({}, { track: 1 }), false],
  ['track null', media({}, { track: null }), false],
  ['unknown keys (zod strips them)', media({ extra: { deep: 1 } }, { other: 'x' }), true],
  ['a __proto__ key', JSON.parse(`{"__proto__":{"event":"x"},"event":"media","streamSid":"${SID}","media":{"payload":"AA=="}}`), true],
  ['event Media', media({ event: 'Media' }), false],
  ['no event', without(media(), 'event'), false],
  ['event dtmf with media fields', media({ event: 'dtmf' }), false],
  ['a dtmf message', { event: 'dtmf', streamSid: SID, dtmf: { digit: '1' } }, false],
  ['a mark message', { event: 'mark', streamSid: SID, mark: { name: 'greeting' } }, false],
  ['a stop message', { event: 'stop', streamSid: SID }, false],
  ['a connected message', { event: 'connected', protocol: 'Call', version: '1.0.0' }, false],
  ['null', null, false],
  ['an array', [media()], false],
  ['a string', 'media', false],
  ['a number', 7, false],
];

describe('the media fast path against zod', () => {
  it.each(TABLE)('%s', (_name, message, fast) => {
    const zod = inboundMessage.safeParse(message);
    expect(isPlainMediaMessage(message)).toBe(fast);
    if (fast) {
      // Taken by the fast path: zod accepts it too, and returns the same message.
      expect(zod.success).toBe(true);
      expect(mediaMessageOf(message as never)).toStrictEqual(zod.data);
    }
    // Fast path then zod: the same verdict, the same message, the same error text.
    const combined = validateInboundMessage(message);
    if (zod.success) expect(combined).toStrictEqual({ ok: true, message: zod.data });
    else expect(combined).toStrictEqual({ ok: false, reason: describeZodError(zod.error, 'message') });
  });

  it('every character of the sid and base64 alphabets is judged like zod', () => {
    for (let code = 0; code < 0x180; code++) {
      const c = String.fromCharCode(code);
      for (const message of [media({ streamSid: `MZ${c}` }), media({}, { payload: `AAA${c}` }), media({ sequenceNumber: `1${c}` })]) {
        const fast = isPlainMediaMessage(message);
        const zod = inboundMessage.safeParse(message).success;
        // The fast path may leave a valid message to zod; it never takes an invalid one.
        if (fast) expect(zod, `U+${code.toString(16)}`).toBe(true);
        // For these three fields every zod-valid character is handled by the fast path.
        expect(fast, `U+${code.toString(16)}`).toBe(zod);
      }
    }
  });
});
