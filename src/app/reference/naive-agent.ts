import type { Knex } from 'knex';
import { tones, type AgentSession } from '../../twilio.js';
import type { ReceptionistAgent, ReceptionistCall } from './agent.js';
import { nextFreeSlot, type Slot } from './opening-hours.js';
import { VoiceActivityDetector } from './voice-activity.js';

const CHIME = tones([{ hz: 660, ms: 300 }, { hz: 880, ms: 300 }]);

/**
 * The receptionist done the old way, to be measured against (and to show the
 * guard at work): it reads what it needs from the database when it needs it
 * and commits as it goes — about 15-17 queries and 4-5 commits per call,
 * most of them while the call is live. Never use it for real calls.
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
      const where = { call_sid: call.callSid, business_id: call.tenantId };

      // step() never rejects: a failure is logged inside.
      step('greet', async () => {
        const log = await knex('call_logs').where(where).first();
        const lead = log?.lead_id ? await knex('leads').where({ id: log.lead_id, tenant_id: call.tenantId }).first() : undefined;
        const business = await knex('businesses').where({ id: call.tenantId }).first();
        await knex('business_settings').where({ tenant_id: call.tenantId }).first();
        await knex('call_logs').where(where).update({ status: 'in-progress' });
        const name = lead?.first_name ?? String(lead?.full_name ?? '').trim().split(/\s+/)[0] ?? '';
        await knex('call_sessions')
          .insert({ ...where, lead_id: lead?.id ?? null, state: JSON.stringify({ greeting: `Hello ${name}, thank you for calling ${business?.name}` }) })
          .onConflict('call_sid')
          .merge();
        call.sendAudio(CHIME);
        call.mark('greeting');
      });

      return {
        onMedia(frame) {
          if (vad.push(frame)) call.clear(); // the same barge-in as the cached receptionist
        },
        onDtmf(digit) {
          if (digit === '1') {
            step('book', async () => {
              const settings = await knex('business_settings').where({ tenant_id: call.tenantId }).first();
              const taken = (await knex('appointments').where({ business_id: call.tenantId }).select('starts_at', 'ends_at')) as Array<{
                starts_at: Date;
                ends_at: Date;
              }>;
              const log = await knex('call_logs').where(where).first('lead_id');
              const slot = settings
                ? nextFreeSlot(settings.opening_hours_json, settings.timezone, new Date(Date.now() + 3_600_000), [
                    ...booked,
                    ...taken.map((t) => ({ startsAt: new Date(t.starts_at), endsAt: new Date(t.ends_at) })),
                  ])
                : null;
              if (slot) {
                booked.push(slot);
                await knex('appointments').insert({
                  business_id: call.tenantId,
                  lead_id: log?.lead_id ?? null,
                  call_sid: call.callSid,
                  starts_at: slot.startsAt,
                  ends_at: slot.endsAt,
                  title: 'Appointment',
                  idempotency_key: `${call.callSid}:naive:${booked.length}`,
                });
              }
              call.sendAudio(CHIME);
              call.mark('booked');
            });
          } else if (digit === '2' || digit === '3') {
            step('note', async () => {
              const log = await knex('call_logs').where(where).first('lead_id');
              if (digit === '3' && log?.lead_id) {
                await knex('leads').where({ id: log.lead_id, tenant_id: call.tenantId }).update({ customer_name: 'Alex Rivera' });
              } else {
                await knex('call_sessions').where(where).update({ state: knex.raw(`state || '{"callbackRequested": true}'::jsonb`) });
              }
              call.sendAudio(CHIME);
              call.mark('noted');
            });
          }
        },
        onStop() {
          return step('hang up', async () => {
            await knex('call_logs').where(where).first();
            await knex('call_logs')
              .where(where)
              .update({ status: 'completed', ended_at: knex.fn.now(), duration_seconds: Math.round((Date.now() - startedAt) / 1000) });
            await knex('call_sessions').where(where).first();
            await knex('call_sessions').where(where).update({ summary: `${booked.length} appointment(s) booked`, updated_at: knex.fn.now() });
          });
        },
      };
    },
  };
}
