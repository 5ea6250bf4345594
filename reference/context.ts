import type { Knex } from 'knex';
import type { CallContextSpec, StartOfCall } from '../src/index.js';
import { callContextFromRow, type CallContext, type CallContextRow } from './call-context.js';

const COLUMNS = [
  'b.id as business_id',
  'b.name as business_name',
  's.tenant_id as settings_tenant_id',
  's.opening_hours_json',
  's.working_hours',
  's.greeting',
  's.prompt',
  's.timezone',
  'c.id as call_log_id',
  'c.lead_id as call_log_lead_id',
  'c.direction as call_direction',
  'c.status as call_status',
  'l.id as lead_id',
  'l.full_name',
  'l.first_name',
  'l.customer_name',
  'l.phone',
  'l.gender',
];

/**
 * The business's booked slots in the window the receptionist offers (the
 * next two weeks, see nextFreeSlot), as a column of the same statement: a
 * live call knows what is taken without asking the database again.
 */
export const BOOKING_WINDOW_DAYS = 15;
function bookedSlots(knex: Knex): Knex.Raw {
  return knex.raw(
    `(select coalesce(json_agg(json_build_array(a.starts_at, a.ends_at) order by a.starts_at), '[]'::json)
        from appointments a
       where a.business_id = b.id and a.status = 'booked' and a.ends_at > now() and a.starts_at < now() + make_interval(days => ?))
     as booked_slots`,
    [BOOKING_WINDOW_DAYS],
  );
}

/** An outbound call names its lead in the stream parameter `lead_id`. */
function leadIdOf(start: StartOfCall<number>): number | null {
  const leadId = start.parameters.lead_id;
  return leadId && /^[1-9]\d{0,9}$/.test(leadId) && Number(leadId) <= 2_147_483_647 ? Number(leadId) : null;
}

/**
 * The receptionist's one start-of-call statement: the business, LEFT JOINed
 * to its settings, to the call log with this sid *of this business*, and to
 * the lead given (outbound) or the call log's lead (inbound) *of this
 * business*. Another business's call sid or lead id therefore matches nothing.
 */
export const receptionistContext: CallContextSpec<number, CallContext> = {
  query: (knex: Knex, start) =>
    knex
      .from('businesses as b')
      .leftJoin('business_settings as s', 's.tenant_id', 'b.id')
      .leftJoin('call_logs as c', (join) => {
        join.on('c.call_sid', '=', knex.raw('?', [start.callSid])).andOn('c.business_id', '=', 'b.id');
      })
      .leftJoin('leads as l', (join) => {
        join.on('l.tenant_id', '=', 'b.id').andOn('l.id', '=', knex.raw('coalesce(?::integer, c.lead_id)', [leadIdOf(start)]));
      })
      .where('b.id', start.tenantId)
      .first([...COLUMNS, bookedSlots(knex)]),
  fromRow: (row, start) => callContextFromRow(start.callSid, row as unknown as CallContextRow),
};
