import { describe, expect, it } from 'vitest';
import { isMediaFrame, isPlainMediaMessage, mediaFramePayload, mediaFrameTail } from '../../src/twilio/twilio-messages.js';

// A stream's MediaFrameTail recognises a live stream's media frames on their text. What
// it accepts must be a frame JSON.parse + isPlainMediaMessage accept, for the
// same stream and with the same payload; what it leaves goes the JSON way.

const SID = 'MZ0123456789abcdef0123456789abcdef';
const PAYLOAD = Buffer.from(Array.from({ length: 160 }, (_, i) => i)).toString('base64');
/** A media frame as Twilio writes it (TWILIO.md): this key order, no spaces. */
const twilioFrame = (parts: { seq?: string; track?: string; chunk?: string; timestamp?: string; payload?: string; sid?: string } = {}): string =>
  `{"event":"media","sequenceNumber":"${parts.seq ?? '3'}","media":{"track":"${parts.track ?? 'inbound'}","chunk":"${parts.chunk ?? '1'}",` +
  `"timestamp":"${parts.timestamp ?? '20'}","payload":"${parts.payload ?? PAYLOAD}"},"streamSid":"${parts.sid ?? SID}"}`;

/** [name, text, whether isMediaFrame takes it] */
const TABLE: Array<[string, string, boolean]> = [
  ['a Twilio frame', twilioFrame(), true],
  ['an outbound track', twilioFrame({ track: 'outbound' }), true],
  ['big sequence numbers', twilioFrame({ seq: '123456789012', chunk: '99999', timestamp: '1999980' }), true],
  ['an empty payload', twilioFrame({ payload: '' }), true],
  ['a payload with ==', twilioFrame({ payload: 'AA==' }), true],
  ['a payload of 16,000 characters', twilioFrame({ payload: 'A'.repeat(16_000) }), true],
  ['a frame over 16 KiB (left to JSON.parse, which takes a 16 KiB payload)', twilioFrame({ payload: 'A'.repeat(16 * 1024) }), false],
  ['another stream', twilioFrame({ sid: 'MZ0123456789abcdef0123456789abcdee' }), false],
  ['the sid as a prefix of another', twilioFrame({ sid: `${SID}0` }), false],
  ['a sid escaped as \\u', twilioFrame({ sid: `\\u004dZ${SID.slice(2)}` }), false],
  ['a payload with an escaped slash', twilioFrame({ payload: 'AA\\/A' }), false],
  ['a payload with three =', twilioFrame({ payload: 'A===' }), false],
  ['a payload with = inside', twilioFrame({ payload: 'A=AA' }), false],
  ['a payload with a space', twilioFrame({ payload: 'AA AA' }), false],
  ['a payload with a quote', twilioFrame({ payload: 'AA"AA' }), false],
  ['an empty sequence number', twilioFrame({ seq: '' }), false],
  ['a negative chunk', twilioFrame({ chunk: '-1' }), false],
  ['an Arabic-Indic digit', twilioFrame({ timestamp: '١' }), false],
  ['an upper-case track', twilioFrame({ track: 'Inbound' }), false],
  ['an empty track', twilioFrame({ track: '' }), false],
  ['a space after a colon', twilioFrame().replace('"event":"media"', '"event": "media"'), false],
  ['a trailing newline', `${twilioFrame()}\n`, false],
  ['keys in another order', JSON.stringify({ event: 'media', streamSid: SID, sequenceNumber: '3', media: { track: 'inbound', chunk: '1', timestamp: '20', payload: PAYLOAD } }), false],
  ['an extra key', twilioFrame().replace('"event":"media",', '"event":"media","x":1,'), false],
  ['a duplicate event key', twilioFrame().replace('"event":"media",', '"event":"dtmf","event":"media",'), false],
  ['a numeric sequence number', twilioFrame().replace('"sequenceNumber":"3"', '"sequenceNumber":3'), false],
  ['a dtmf message', `{"event":"dtmf","streamSid":"${SID}","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}`, false],
  ['a truncated frame', twilioFrame().slice(0, -1), false],
  ['not JSON', `${twilioFrame()}}`, false],
];

describe('MediaFrameTail: a live stream\'s media frames on their text', () => {
  const tail = mediaFrameTail(SID)!;

  it.each(TABLE)('%s', (_name, text, taken) => {
    expect(isMediaFrame(text, tail)).toBe(taken);
    if (!taken) return;
    // Taken: valid JSON, a media message of this stream by the JSON path's rules, with the same payload.
    const json = JSON.parse(text) as { streamSid: string; media: { payload: string } };
    expect(isPlainMediaMessage(json)).toBe(true);
    expect(json.streamSid).toBe(SID);
    expect(mediaFramePayload(text, tail)).toBe(json.media.payload);
  });

  it('every character in every field is either taken with the JSON verdict or left to JSON.parse', () => {
    for (let code = 0; code < 0x180; code++) {
      const c = String.fromCharCode(code);
      const variants = [
        twilioFrame({ seq: `1${c}` }),
        twilioFrame({ track: `in${c}` }),
        twilioFrame({ chunk: `${c}2` }),
        twilioFrame({ timestamp: `2${c}0` }),
        twilioFrame({ payload: `AAA${c}` }),
      ];
      for (const text of variants) {
        if (!isMediaFrame(text, tail)) continue;
        const json = JSON.parse(text) as { media: { payload: string } };
        expect(isPlainMediaMessage(json), `U+${code.toString(16)} in ${text.slice(0, 60)}`).toBe(true);
        expect(mediaFramePayload(text, tail)).toBe(json.media.payload);
      }
    }
  });

  it('takes no frame for a sid JSON would escape, and matches a sid of pattern characters literally', () => {
    expect(mediaFrameTail('MZ"1')).toBeNull();
    expect(mediaFrameTail('MZ\\1')).toBeNull();
    const odd = mediaFrameTail('MZ.*+?()[]{}|^$/-')!;
    expect(isMediaFrame(twilioFrame({ sid: 'MZ.*+?()[]{}|^$/-' }), odd)).toBe(true);
    expect(isMediaFrame(twilioFrame({ sid: 'MZaaaaaaaaaaaaaaaaa' }), odd)).toBe(false);
    expect(odd).toBe('"},"streamSid":"MZ.*+?()[]{}|^$/-"}');
  });
});
