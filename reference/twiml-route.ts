import express, { type Request, type Response, type Router } from 'express';
import type { Knex } from 'knex';
import twilio from 'twilio';
import { z } from 'zod';
import { positiveIntegerId, sidSchema, type Logger } from '../src/index.js';
import { busyTwiml, isValidTwilioSignature, streamTwiml, type PrefetchCall } from '../src/twilio/index.js';

/** Each database statement of the webhook: its server-side deadline (statement_timeout, lock_timeout). */
export const WEBHOOK_STATEMENT_TIMEOUT_MS = 2_000;

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
  /**
   * Called with the call once its log is recorded, before the TwiML is sent:
   * the media stream's `prefetch`, so the call's context is loaded before its
   * stream starts. Not awaited. Default none (the stream loads at `start`).
   */
  prefetch?: (call: PrefetchCall) => unknown;
  /**
   * Each statement of the webhook may take this long (the server enforces it:
   * `statement_timeout` and `lock_timeout` for its transaction); the webhook
   * answers "cannot take your call" TwiML by then in any case (a database
   * that does not answer at all). Default WEBHOOK_STATEMENT_TIMEOUT_MS (2 s).
   */
  statementTimeoutMs?: number;
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
  const statementTimeoutMs = options.statementTimeoutMs ?? WEBHOOK_STATEMENT_TIMEOUT_MS;
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs <= 0) {
    throw new TypeError(`twimlRoute statementTimeoutMs must be a positive integer (received ${String(options.statementTimeoutMs)})`);
  }
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
      const found = await withinDeadline(
        boundedTransaction(options.knex, statementTimeoutMs, async (trx) => {
          const business = (await trx('businesses').where({ phone_number: ourNumber }).first('id')) as { id: number } | undefined;
          if (!business) return undefined;
          const leadId = await recordCall(trx, { callSid, businessId: business.id, direction, theirNumber, leadId: body.data.lead_id });
          return { business, leadId };
        }),
        // The server's deadlines bound each statement; this bounds a database that does not answer at all (a pool that cannot connect).
        statementTimeoutMs * 2,
      );
      if (!found) {
        options.logger.warn({ call_sid: callSid, number: ourNumber }, 'call to a number no business owns');
        twiml.say('Sorry, this number is not in service.');
        twiml.hangup();
        res.type('text/xml').send(twiml.toString());
        return;
      }
      const { business, leadId } = found;
      const parameters: Record<string, string> = { business_id: String(business.id), direction };
      if (leadId !== null) parameters.lead_id = String(leadId);
      // The call's context starts loading now (its log is committed): ready before the stream's `start`.
      options.prefetch?.({ callSid, parameters });
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
 * One transaction whose every statement the server bounds: `statement_timeout`
 * and `lock_timeout` set for this transaction only (a locked `call_logs`
 * fails the statement after `timeoutMs`, rather than holding the webhook).
 */
async function boundedTransaction<T>(knex: Knex, timeoutMs: number, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return knex.transaction(async (trx) => {
    await trx.raw(`select set_config('statement_timeout', ?, true), set_config('lock_timeout', ?, true)`, [`${timeoutMs}ms`, `${timeoutMs}ms`]);
    return work(trx);
  });
}

/** `promise`, or a rejection after `ms` (the late outcome of `promise` is then caught and dropped). */
async function withinDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the webhook's database work took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Records the call (once per call sid) and returns its lead: the one asked
 * for (outbound), or the business's lead whose phone matches the other party.
 */
async function recordCall(
  trx: Knex.Transaction,
  call: { callSid: string; businessId: number; direction: 'inbound' | 'outbound'; theirNumber: string; leadId: number | undefined },
): Promise<number | null> {
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
}
