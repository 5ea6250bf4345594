import { z } from 'zod';
import { SID_PATTERN, sidSchema } from '../context/call-ids.js';
import { describeZodError } from '../zod-error.js';

// The rules of the schemas below, shared with the media fast path (isPlainMediaMessage).
const DIGITS = /^\d+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_SHORT_TEXT = 256;
/** base64 µ-law; a 20 ms frame is 160 bytes (216 base64 chars). */
const MAX_PAYLOAD_CHARS = 16 * 1024;

/** Twilio sends numbers as strings ("1"); accept both, keep a number. */
const numeric = z.union([z.string().regex(DIGITS), z.number().int().nonnegative()]).transform(Number);
/** The one sid rule (call-ids.ts): what this accepts the journal can store. */
const sid = sidSchema;
const shortText = z.string().max(MAX_SHORT_TEXT);

export const connectedMessage = z.object({
  event: z.literal('connected'),
  protocol: shortText.optional(),
  version: shortText.optional(),
});

export const startMessage = z.object({
  event: z.literal('start'),
  sequenceNumber: numeric.optional(),
  streamSid: sid,
  start: z.object({
    accountSid: sid.optional(),
    streamSid: sid,
    callSid: sid,
    tracks: z.array(shortText).max(4).optional(),
    customParameters: z.record(shortText.max(64), shortText.max(1024)).optional().default({}),
    mediaFormat: z
      .object({ encoding: shortText, sampleRate: z.number().int().positive(), channels: z.number().int().positive() })
      .optional(),
  }),
});

export const mediaMessage = z.object({
  event: z.literal('media'),
  sequenceNumber: numeric.optional(),
  streamSid: sid,
  media: z.object({
    track: shortText.optional(),
    chunk: numeric.optional(),
    timestamp: numeric.optional(),
    payload: z.string().max(MAX_PAYLOAD_CHARS).regex(BASE64, 'must be base64'),
  }),
});

export const dtmfMessage = z.object({
  event: z.literal('dtmf'),
  sequenceNumber: numeric.optional(),
  streamSid: sid,
  dtmf: z.object({ track: shortText.optional(), digit: z.string().regex(/^[0-9*#A-D]$/, 'must be one DTMF digit') }),
});

export const markMessage = z.object({
  event: z.literal('mark'),
  sequenceNumber: numeric.optional(),
  streamSid: sid,
  mark: z.object({ name: shortText }),
});

export const stopMessage = z.object({
  event: z.literal('stop'),
  sequenceNumber: numeric.optional(),
  streamSid: sid,
  stop: z.object({ accountSid: sid.optional(), callSid: sid.optional() }).optional(),
});

/** Every message Twilio sends on a Media Stream. */
export const inboundMessage = z.discriminatedUnion('event', [
  connectedMessage,
  startMessage,
  mediaMessage,
  dtmfMessage,
  markMessage,
  stopMessage,
]);

export type InboundMessage = z.infer<typeof inboundMessage>;
export type StartMessage = z.infer<typeof startMessage>;
export type MediaMessage = z.infer<typeof mediaMessage>;
export type DtmfMessage = z.infer<typeof dtmfMessage>;
export type MarkMessage = z.infer<typeof markMessage>;

/** The three messages a bidirectional stream accepts from us. */
export type OutboundMessage =
  | { event: 'media'; streamSid: string; media: { payload: string } }
  | { event: 'mark'; streamSid: string; mark: { name: string } }
  | { event: 'clear'; streamSid: string };

export type ParseResult = { ok: true; message: InboundMessage } | { ok: false; reason: string };

/** Parses and validates one text frame; the reason names what was wrong. */
export function parseInboundMessage(text: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  return validateInboundMessage(json);
}

/** Validates a parsed frame: the media fast path first, zod for everything else. */
export function validateInboundMessage(json: unknown): ParseResult {
  if (isPlainMediaMessage(json)) return { ok: true, message: mediaMessageOf(json) };
  const result = inboundMessage.safeParse(json);
  if (result.success) return { ok: true, message: result.data };
  return { ok: false, reason: describeZodError(result.error, 'message') };
}

/**
 * A `media` message as Twilio sends it, checked by {@link isPlainMediaMessage}:
 * only the two fields the hot path reads are typed. Its other known fields
 * were checked too; unknown keys are there but ignored (zod strips them).
 */
export interface PlainMediaMessage {
  readonly event: 'media';
  readonly streamSid: string;
  readonly media: { readonly payload: string };
}


/**
 * The media fast path (50 frames a second per call): true only when the
 * value (a JSON.parse result: plain data, no getters) is a `media` message
 * that {@link mediaMessage} accepts, checked by hand with the same rules and
 * the same regular expressions —
 * streamSid by the sid rule (1-64 characters 0x21-0x7E), payload a string
 * of at most 16 KiB in the base64 alphabet with up to two trailing `=`,
 * track a string of at most 256, sequenceNumber/chunk/timestamp strings of
 * digits. False for anything else, valid or not (numbers given as JSON
 * numbers, a missing field, a bad character): zod then decides, so its
 * error messages stay the same. No allocation. Tested against zod on a
 * table of messages (test/app/twilio-messages-fast-path.test.ts).
 */
export function isPlainMediaMessage(json: unknown): json is PlainMediaMessage {
  if (typeof json !== 'object' || json === null) return false;
  const message = json as Record<string, unknown>;
  if (message.event !== 'media' || !isSid(message.streamSid) || !isOptionalDigits(message.sequenceNumber)) return false;
  const media = message.media;
  if (typeof media !== 'object' || media === null || Array.isArray(media)) return false;
  const { track, chunk, timestamp, payload } = media as Record<string, unknown>;
  if (track !== undefined && (typeof track !== 'string' || track.length > MAX_SHORT_TEXT)) return false;
  return isOptionalDigits(chunk) && isOptionalDigits(timestamp) && isBase64(payload);
}

/** What `mediaMessage.parse` returns for a message {@link isPlainMediaMessage} accepted (known keys only, numbers as numbers). */
export function mediaMessageOf(json: PlainMediaMessage): MediaMessage {
  const raw = json as unknown as { sequenceNumber?: string; media: { track?: string; chunk?: string; timestamp?: string; payload: string } };
  const media: MediaMessage['media'] = { payload: raw.media.payload };
  if (raw.media.track !== undefined) media.track = raw.media.track;
  if (raw.media.chunk !== undefined) media.chunk = Number(raw.media.chunk);
  if (raw.media.timestamp !== undefined) media.timestamp = Number(raw.media.timestamp);
  const message: MediaMessage = { event: 'media', streamSid: json.streamSid, media };
  if (raw.sequenceNumber !== undefined) message.sequenceNumber = Number(raw.sequenceNumber);
  return message;
}

// The schemas' own regular expressions and limits (above), applied without
// zod's machinery (V8's compiled regex beats a charCodeAt loop on a
// 216-character payload: ~360 vs ~600-1000 ns, bench/capacity/frame-costs.ts).

/** sidSchema's rule (call-ids.ts): 1-64 characters, each 0x21-0x7E. */
function isSid(value: unknown): value is string {
  return typeof value === 'string' && SID_PATTERN.test(value);
}

/** Absent, or a string of ASCII digits (the string half of `numeric`; numbers go to zod). */
function isOptionalDigits(value: unknown): boolean {
  return value === undefined || (typeof value === 'string' && DIGITS.test(value));
}

/** The payload rule: a string of at most 16 KiB matching /^[A-Za-z0-9+/]*={0,2}$/. */
function isBase64(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_PAYLOAD_CHARS && BASE64.test(value);
}

/**
 * A media frame's text exactly as Twilio writes it (TWILIO.md), any sid
 * without `"` or `\`: one pattern shared by every stream, so that its
 * compiled code stays warm (not one per stream, hundreds of them cold).
 */
const TWILIO_MEDIA_FRAME =
  /^\{"event":"media","sequenceNumber":"\d+","media":\{"track":"[a-z_]{1,32}","chunk":"\d+","timestamp":"\d+","payload":"[A-Za-z0-9+/]*={0,2}"\},"streamSid":"[^"\\]{1,64}"\}$/;

declare const tailBrand: unique symbol;
/**
 * `"},"streamSid":"<sid>"}`: the end of every media frame of one stream,
 * made by {@link mediaFrameTail}. A live stream's media frames are
 * recognised on their text with it ({@link isMediaFrame}), without
 * JSON.parse: the frame exactly as Twilio writes it, key order and all —
 * `{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"…"},"streamSid":"MZ…"}`
 * — ending with this stream's sid, digits where Twilio puts digits, a track
 * of lower-case letters, a base64 payload. Text it accepts is valid JSON
 * that {@link isPlainMediaMessage} accepts with this sid and this payload
 * (held by test/twilio/media-frame-text.test.ts); anything else — another
 * key order, spaces, escapes, another sid, over 16 KiB — is left to
 * JSON.parse and the checks above. JSON.parse was most of a frame's cost
 * (~1.4 µs against ~0.25 µs, bench/capacity/frame-costs.ts).
 *
 * A plain string, kept by the session itself: with hundreds of calls a
 * session's state is out of the CPU's cache when its next frame comes, and
 * each object between the session and the characters it compares costs a
 * memory load.
 */
export type MediaFrameTail = string & { readonly [tailBrand]: true };

/**
 * The tail of the media frames of a stream whose sid passed the sid rule,
 * as one flat string (its characters inline, not a concatenation V8 would
 * walk on every compare); null when the sid holds `"` or `\` (JSON escapes
 * them: no text would match).
 */
export function mediaFrameTail(streamSid: string): MediaFrameTail | null {
  if (/["\\]/.test(streamSid)) return null;
  // A template literal makes a rope (a ConsString); a string decoded from bytes is flat.
  // The sid rule keeps every character in 0x21-0x7E, so latin1 is exact.
  return Buffer.from(`"},"streamSid":"${streamSid}"}`, 'latin1').toString('latin1') as MediaFrameTail;
}

/**
 * Whether `text` is one of this stream's media frames as Twilio writes it
 * (at most 16 KiB of text, so its payload is too). Neither the sid nor the
 * pattern's sid holds a quote, so the quote before each closes the same
 * key: ending with this tail, the frame's sid is this sid.
 */
export function isMediaFrame(text: string, tail: MediaFrameTail): boolean {
  return text.length <= MAX_PAYLOAD_CHARS && text.endsWith(tail) && TWILIO_MEDIA_FRAME.test(text);
}

/** The base64 payload of a frame {@link isMediaFrame} accepted with this tail. */
export function mediaFramePayload(text: string, tail: MediaFrameTail): string {
  return text.slice(text.indexOf('"payload":"') + 11, text.length - tail.length);
}
