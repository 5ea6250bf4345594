import { extractFirstName } from './first-name.js';

/** A JSON value as PostgreSQL jsonb returns it (read-only: a context is frozen). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** The call's row in call_logs, when the call is already there. */
export interface CallLogSnapshot {
  readonly id: number;
  readonly callSid: string;
  readonly leadId: number | null;
  readonly direction: string;
  readonly status: string;
}

/** The call's lead, always a lead of the call's business. */
export interface LeadSnapshot {
  readonly id: number;
  readonly fullName: string | null;
  readonly firstName: string | null;
  readonly customerName: string | null;
  readonly phone: string | null;
  readonly gender: string | null;
}

export interface BusinessSnapshot {
  readonly id: number;
  readonly name: string;
}

export interface BusinessSettingsSnapshot {
  readonly openingHours: { readonly [day: string]: JsonValue };
  readonly workingHours: string | null;
  readonly greeting: string | null;
  readonly prompt: string | null;
  readonly timezone: string;
}

/** A booked appointment's time, as the start-of-call statement found it. */
export interface BookedSlot {
  readonly startsAt: Date;
  readonly endsAt: Date;
}

/**
 * Everything a call reads from the database, loaded once at call start by
 * {@link loadCallContext} and frozen all the way down: a live call reads
 * this, never the database.
 */
export interface CallContext {
  readonly callSid: string;
  readonly business: BusinessSnapshot;
  /** Null when the business has no settings row. */
  readonly settings: BusinessSettingsSnapshot | null;
  /** Null when the call is not in call_logs yet (e.g. a call that just arrived). */
  readonly callLog: CallLogSnapshot | null;
  /** The business's booked appointments in the booking window, when the call started. */
  readonly bookedSlots: readonly BookedSlot[];
  /** Null when the call has no lead (or the lead asked for is not one of the business's). */
  readonly lead: LeadSnapshot | null;
  /**
   * The name to address the caller by, derived once: the lead's stored
   * first name, else the first name in its customer name, else in its full
   * name (see {@link extractFirstName}); null without a usable name.
   */
  readonly firstName: string | null;
}

/** The one row the call-start query returns (snake_case, as PostgreSQL names it). */
export interface CallContextRow {
  business_id: number;
  business_name: string;
  settings_tenant_id: number | null;
  opening_hours_json: { [day: string]: JsonValue } | null;
  working_hours: string | null;
  greeting: string | null;
  prompt: string | null;
  timezone: string | null;
  call_log_id: number | null;
  call_log_lead_id: number | null;
  call_direction: string | null;
  call_status: string | null;
  lead_id: number | null;
  full_name: string | null;
  first_name: string | null;
  customer_name: string | null;
  phone: string | null;
  gender: string | null;
  /** [starts_at, ends_at] pairs (ISO strings). */
  booked_slots: Array<[string, string]> | null;
}

/** Builds the frozen context from the query's row. */
export function callContextFromRow(callSid: string, row: CallContextRow): CallContext {
  const lead: LeadSnapshot | null =
    row.lead_id === null
      ? null
      : {
          id: row.lead_id,
          fullName: row.full_name,
          firstName: row.first_name,
          customerName: row.customer_name,
          phone: row.phone,
          gender: row.gender,
        };
  const context: CallContext = {
    callSid,
    business: { id: row.business_id, name: row.business_name },
    settings:
      row.settings_tenant_id === null
        ? null
        : {
            openingHours: row.opening_hours_json ?? {},
            workingHours: row.working_hours,
            greeting: row.greeting,
            prompt: row.prompt,
            timezone: row.timezone ?? 'UTC',
          },
    callLog:
      row.call_log_id === null
        ? null
        : {
            id: row.call_log_id,
            callSid,
            leadId: row.call_log_lead_id,
            direction: row.call_direction ?? 'inbound',
            status: row.call_status ?? 'initiated',
          },
    bookedSlots: (row.booked_slots ?? []).map(([startsAt, endsAt]) => ({ startsAt: new Date(startsAt), endsAt: new Date(endsAt) })),
    lead,
    firstName: lead ? firstNameOf(lead) : null,
  };
  return context; // frozen by the layer
}

function firstNameOf(lead: LeadSnapshot): string | null {
  const stored = lead.firstName?.trim();
  if (stored) return extractFirstName(stored) ?? stored;
  return extractFirstName(lead.customerName) ?? extractFirstName(lead.fullName);
}
