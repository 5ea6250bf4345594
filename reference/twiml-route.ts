import express, { type Request, type Response, type Router } from 'express';
import type { Knex } from 'knex';
import twilio from 'twilio';
import { z } from 'zod';
import { positiveIntegerId, sidSchema, type Logger } from '../src/index.js';
import { busyTwiml, isValidTwilioSignature, streamTwiml, type PrefetchCall } from '../src/twilio/index.js';

/** The webhook's one database statement: its deadline, after which it is cancelled on the server. */
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
   * The webhook's one statement may take this long, then it is cancelled on
   * the server (a locked `call_logs` included); the webhook answers "cannot
   * take your call" TwiML by twice this in any case (a database that does not
   * answer at all). Default WEBHOOK_STATEMENT_TIMEOUT_MS (2 s).
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
        recordCall(options.knex, statementTimeoutMs, { callSid, ourNumber, theirNumber, direction, leadId: body.data.lead_id }),
        // The statement is cancelled on the server after statementTimeoutMs; this bounds a database that does not answer at all (a pool that cannot connect).
        statementTimeoutMs * 2,
      );
      if (!found) {
        options.logger.warn({ call_sid: callSid, number: ourNumber }, 'call to a number no business owns');
        twiml.say('Sorry, this number is not in service.');
        twiml.hangup();
        res.type('text/xml').send(twiml.toString());
        return;
      }
      const { businessId, leadId } = found;
      const parameters: Record<string, string> = { business_id: String(businessId), direction };
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
 * Records the call (once per call sid) and returns its business and lead —
 * the one asked for (outbound), or the business's lead whose phone matches
 * the other party; a call already recorded keeps the lead it was recorded
 * with — in ONE statement: one round trip holding a pool connection, where a
 * transaction of a statement each would hold it across six, each waiting for
 * an event loop busy with live calls (the pool the calls' starts need).
 * Undefined when no business owns the number. After `timeoutMs` the statement
 * is cancelled on the server (knex: pg_cancel_backend), the row never half
 * written (a statement is atomic).
 */
async function recordCall(
  knex: Knex,
  timeoutMs: number,
  call: { callSid: string; ourNumber: string; theirNumber: string; direction: 'inbound' | 'outbound'; leadId: number | undefined },
): Promise<{ businessId: number; leadId: number | null } | undefined> {
  const leadMatch = call.leadId === undefined ? knex.raw('l.phone = ?', [call.theirNumber]) : knex.raw('l.id = ?', [call.leadId]);
  const { rows } = (await knex
    .raw(
      `with business as (select id from businesses where phone_number = ? limit 1),
        existing as (select c.lead_id from call_logs c join business b on c.business_id = b.id where c.call_sid = ?),
        lead as (select l.id from leads l join business b on l.tenant_id = b.id where ? order by l.id limit 1),
        recorded as (
          insert into call_logs (call_sid, business_id, lead_id, direction, status)
          select ?, b.id, (select id from lead), ?, 'in-progress' from business b where not exists (select 1 from existing)
          on conflict (call_sid) do nothing
        )
      select b.id as business_id, case when exists (select 1 from existing) then (select lead_id from existing) else (select id from lead) end as lead_id
      from business b`,
      [call.ourNumber, call.callSid, leadMatch, call.callSid, call.direction],
    )
    .timeout(timeoutMs, { cancel: true })) as { rows: Array<{ business_id: number; lead_id: number | null }> };
  const row = rows[0];
  return row ? { businessId: row.business_id, leadId: row.lead_id } : undefined;
}
