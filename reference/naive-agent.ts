import type { Knex } from 'knex';
import type { AgentSession } from '../src/twilio/index.js';
import { tones } from '../src/testing/index.js';
import type { ReceptionistAgent, ReceptionistCall } from './agent.js';
import { BOOKING_WINDOW_DAYS } from './context.js';
import { extractFirstName } from './first-name.js';
import { nextFreeSlot, type Slot } from './opening-hours.js';
import { VoiceActivityDetector } from './voice-activity.js';

const CHIME = tones([{ hz: 660, ms: 300 }, { hz: 880, ms: 300 }]);

/**
 * The receptionist done the old way, to be measured against (and to show the
 * guard at work). It does the cached receptionist's work — the same reads,
 * each used; the same writes; the same conflict check on booking — but reads
 * what it needs from the database when it needs it and commits as it goes,
 * mostly while the call is live. Never use it for real calls.
 */
export function naiveReceptionistAgent(knex: Knex): ReceptionistAgent {
  return {
    startCall(call: ReceptionistCall): AgentSession {
      const startedAt = Date.now();
      // One query after the other, as an `await`ing handler would; a failure
      // (e.g. the guard blocking it) is logged and the call goes on.
      let chain: Promise<unknown> = Promise.resolve();
      const step = (what: string, fn: () => Promise<unknown>): Promise<void> => {
        const next = chain.then(fn).then(
          () => undefined,
          (error: unknown) => call.log.warn({ err: error, step: what }, 'naive agent: query failed'),
        );
        chain = next;
        return next;
      };
      const booked: Slot[] = [];
      const vad = new VoiceActivityDetector();
      let bargeIns = 0;
      let leadId: number | null = null;
      const tenant = call.tenantId;
      const session = { call_sid: call.callSid, business_id: tenant };

      // What the cached receptionist's one statement loads, one query at a time; then its first write, committed.
      step('greet', async () => {
        const log = (await knex('call_logs').where(session).first('lead_id')) as { lead_id: number | null } | undefined;
        const named = call.parameters.lead_id ? Number(call.parameters.lead_id) : null;
        const lead = (await knex('leads').where({ id: named ?? log?.lead_id ?? null, tenant_id: tenant }).first('id', 'first_name', 'customer_name', 'full_name')) as
          | { id: number; first_name: string | null; customer_name: string | null; full_name: string | null }
          | undefined;
        leadId = lead?.id ?? null;
        const business = (await knex('businesses').where({ id: tenant }).first('name')) as { name: string } | undefined;
        const settings = (await knex('business_settings').where({ tenant_id: tenant }).first('greeting')) as { greeting: string | null } | undefined;
        const name = lead ? (lead.first_name ?? extractFirstName(lead.customer_name) ?? extractFirstName(lead.full_name)) : null;
        const greeting = `Hello${name ? ` ${name}` : ''}, ${settings?.greeting ?? `thank you for calling ${business?.name ?? 'us'}.`}`;
        await knex('call_sessions')
          .insert({ ...session, lead_id: leadId, state: JSON.stringify({ greeting, direction: call.direction }) })
          .onConflict('call_sid')
          .merge();
        call.sendAudio(CHIME);
        call.mark('greeting');
      });

      return {
        onMedia(frame) {
          if (vad.push(frame)) {
            call.clear(); // the same barge-in as the cached receptionist
            bargeIns += 1;
          }
        },
        onDtmf(digit) {
          if (digit === '1') {
            step('book', async () => {
              // The same check as the cached agent's: the opening hours and the booked slots of the window.
              const settings = (await knex('business_settings').where({ tenant_id: tenant }).first('opening_hours_json', 'timezone')) as
                | { opening_hours_json: Record<string, never>; timezone: string }
                | undefined;
              const taken = (await knex('appointments')
                .where({ business_id: tenant, status: 'booked' })
                .andWhere('ends_at', '>', knex.fn.now())
                .andWhere('starts_at', '<', knex.raw(`now() + make_interval(days => ?)`, [BOOKING_WINDOW_DAYS]))
                .select('starts_at', 'ends_at')) as Array<{ starts_at: Date; ends_at: Date }>;
              const slot = settings
                ? nextFreeSlot(settings.opening_hours_json, settings.timezone, new Date(Date.now() + 3_600_000), [
                    ...taken.map((t) => ({ startsAt: new Date(t.starts_at), endsAt: new Date(t.ends_at) })),
                    ...booked,
                  ])
                : null;
              if (!slot) {
                call.sendAudio(CHIME);
                call.mark('sorry');
                return;
              }
              booked.push(slot);
              const appointment = {
                business_id: tenant,
                lead_id: leadId,
                call_sid: call.callSid,
                starts_at: slot.startsAt,
                ends_at: slot.endsAt,
                title: 'Appointment',
                idempotency_key: `${call.callSid}:naive:${booked.length}`,
              };
              // Committed at once; a slot another call took meanwhile is recorded as a conflict with a callback task.
              await knex.transaction(async (trx) => {
                const inserted = await trx('appointments').insert({ ...appointment, status: 'booked' }).onConflict().ignore().returning('id');
                if (inserted.length > 0) return;
                await trx('appointments').insert({ ...appointment, status: 'conflict' }).onConflict('idempotency_key').ignore();
                await trx('callback_tasks')
                  .insert({ business_id: tenant, lead_id: leadId, call_sid: call.callSid, reason: 'slot taken', idempotency_key: `${appointment.idempotency_key}:callback` })
                  .onConflict('idempotency_key')
                  .ignore();
              });
              call.sendAudio(CHIME);
              call.mark('booked');
            });
          } else if (digit === '2' || digit === '3') {
            step('note', async () => {
              if (digit === '3' && leadId !== null) {
                await knex('leads').where({ id: leadId, tenant_id: tenant }).update({ customer_name: 'Alex Rivera' });
              } else {
                const state = digit === '2' ? { callbackRequested: true, callbackRequestedAt: new Date().toISOString() } : { callerName: 'Alex Rivera' };
                await knex('call_sessions').where(session).update({ state: knex.raw('state || ?::jsonb', [JSON.stringify(state)]) });
              }
              call.sendAudio(CHIME);
              call.mark('noted');
            });
          }
        },
        onStop() {
          return step('hang up', async () => {
            await knex('call_sessions')
              .where(session)
              .update({
                state: knex.raw('state || ?::jsonb', [JSON.stringify({ bargeIns })]),
                summary: `${booked.length} appointment(s) booked`,
                updated_at: knex.fn.now(),
              });
            await knex('call_logs')
              .where(session)
              .update({ status: 'completed', ended_at: knex.fn.now(), duration_seconds: Math.round((Date.now() - startedAt) / 1000) });
          });
        },
      };
    },
  };
}
