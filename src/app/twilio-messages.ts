import { z } from 'zod';
import { sidSchema } from '../context/call-ids.js';
import { describeZodError } from '../zod-error.js';

/** Twilio sends numbers as strings ("1"); accept both, keep a number. */
const numeric = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(Number);
/** The one sid rule (call-ids.ts): what this accepts the journal can store. */
const sid = sidSchema;
const shortText = z.string().max(256);

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
    /** base64 µ-law; a 20 ms frame is 160 bytes (216 base64 chars). */
    payload: z.string().max(16 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
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
  const result = inboundMessage.safeParse(json);
  if (result.success) return { ok: true, message: result.data };
  return { ok: false, reason: describeZodError(result.error, 'message') };
}
