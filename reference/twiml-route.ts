import express, { type Request, type Response, type Router } from 'express';
import type { Knex } from 'knex';
import twilio from 'twilio';
import { z } from 'zod';
import { positiveIntegerId, sidSchema, type Logger } from '../src/index.js';
import { busyTwiml, isValidTwilioSignature, streamTwiml } from '../src/twilio/index.js';

export interface TwimlRouteOptions {
  knex: Knex;
  logger: Logger;
  /** TWILIO_AUTH_TOKEN: when set, the webhook's `X-Twilio-Signature` is checked (403 if wrong). */
  authToken?: string | undefined;
  /** PUBLIC_URL: the origin Twilio calls; signatures and the Stream URL are built from it. Default: the request's Host. */
  publicUrl?: string | undefined;
  /** CALL_STREAM_SECRET: signs the stream token. */
  streamSecret?: string | undefined;
  /** How long a stream token is valid. Default DEFAULTS.streamTokenTtlSeconds (300 s). */
  streamTokenTtlSeconds?: number;
  /** Default `/media`. */
  mediaPath?: string;
  /**
   * While it returns a reason (draining, the journal cannot keep writes),
   * calls are rejected with `<Reject reason="busy"/>` (Twilio plays a busy
   * signal; the caller's carrier may retry). Default: never.
   */
  refusal?: () => string | undefined;
}

/** A phone number, `client:name` or `sip:…` as Twilio sends them: printable, no control characters. */
const phone = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'must not contain control characters');
const webhookBody = z.object({
  CallSid: sidSchema.refine((sid) => /^CA[0-9A-Za-z]+$/.test(sid), 'must be a Twilio call sid (CA and letters or digits)'),
  To: phone,
  From: phone,
  Direction: z.string().max(32).regex(/^[A-Za-z-]*$/, 'must be a Twilio call direction (letters and -)').optional(),
  lead_id: positiveIntegerId.optional(),
});

/**
 * `POST /twiml`, the voice webhook. It comes before the live call, so it may
 * write: it records the call in call_logs (idempotent: Twilio retries
 * webhooks), with the lead of that business whose phone matches the caller,
 * and answers `<Connect><Stream>` with the business, direction, lead and a
 * signed token as `<Parameter>`s. An unknown number gets a TwiML that says so
 * and hangs up, never a 500.
 */
export function twimlRoute(options: TwimlRouteOptions): Router {
  const router = express.Router();
  const mediaPath = options.mediaPath ?? '/media';
  router.post('/twiml', express.urlencoded({ extended: false, limit: '16kb' }), async (req: Request, res: Response) => {
    const params = Object.fromEntries(Object.entries((req.body ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    const publicUrl = options.publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
    if (options.authToken) {
      const url = new URL(req.originalUrl, publicUrl).toString();
      if (!isValidTwilioSignature(options.authToken, req.headers['x-twilio-signature'], url, params)) {
        res.status(403).type('text/plain').send('invalid X-Twilio-Signature');
        return;
      }
    }
    const body = webhookBody.safeParse({ ...params, lead_id: req.query.lead_id ?? params.lead_id });
    if (!body.success) {
      res.status(400).type('text/plain').send(`invalid webhook: ${z.prettifyError(body.error).replaceAll('\n', '; ')}`);
      return;
    }
    const { CallSid: callSid, To: to, From: from, Direction: twilioDirection } = body.data;
    const refusal = options.refusal?.();
    if (refusal !== undefined) {
      // Not logged per call (an overload would flood the log): the media stream counts refusals and logs the first of a streak.
      res.type('text/xml').send(busyTwiml());
      return;
    }
    const direction = twilioDirection?.startsWith('outbound') ? 'outbound' : 'inbound';
    const [ourNumber, theirNumber] = direction === 'inbound' ? [to, from] : [from, to];

    const twiml = new twilio.twiml.VoiceResponse();
    try {
      const business = (await options.knex('businesses').where({ phone_number: ourNumber }).first('id')) as { id: number } | undefined;
      if (!business) {
        options.logger.warn({ call_sid: callSid, number: ourNumber }, 'call to a number no business owns');
        twiml.say('Sorry, this number is not in service.');
        twiml.hangup();
        res.type('text/xml').send(twiml.toString());
        return;
      }
      const leadId = await recordCall(options.knex, { callSid, businessId: business.id, direction, theirNumber, leadId: body.data.lead_id });
      const parameters: Record<string, string> = { business_id: String(business.id), direction };
      if (leadId !== null) parameters.lead_id = String(leadId);
      res.type('text/xml').send(
        streamTwiml({
          publicUrl,
          path: mediaPath,
          callSid,
          parameters,
          streamSecret: options.streamSecret,
          ...(options.streamTokenTtlSeconds !== undefined ? { tokenTtlSeconds: options.streamTokenTtlSeconds } : {}),
        }),
      );
    } catch (error) {
      options.logger.error({ call_sid: callSid, err: error }, 'voice webhook failed');
      const sorry = new twilio.twiml.VoiceResponse();
      sorry.say('Sorry, we cannot take your call right now.');
      sorry.hangup();
      res.status(200).type('text/xml').send(sorry.toString());
    }
  });
  return router;
}

/**
 * Records the call (once per call sid) and returns its lead: the one asked
 * for (outbound), or the business's lead whose phone matches the other party.
 */
async function recordCall(
  knex: Knex,
  call: { callSid: string; businessId: number; direction: 'inbound' | 'outbound'; theirNumber: string; leadId: number | undefined },
): Promise<number | null> {
  return knex.transaction(async (trx) => {
    const existing = (await trx('call_logs').where({ call_sid: call.callSid, business_id: call.businessId }).first('lead_id')) as
      | { lead_id: number | null }
      | undefined;
    if (existing) return existing.lead_id;
    const lead = (await trx('leads')
      .where({ tenant_id: call.businessId })
      .andWhere((q) => {
        if (call.leadId) q.where({ id: call.leadId });
        else q.where({ phone: call.theirNumber });
      })
      .orderBy('id')
      .first('id')) as { id: number } | undefined;
    await trx('call_logs')
      .insert({
        call_sid: call.callSid,
        business_id: call.businessId,
        lead_id: lead?.id ?? null,
        direction: call.direction,
        status: 'in-progress',
      })
      .onConflict('call_sid')
      .ignore();
    return lead?.id ?? null;
  });
}
