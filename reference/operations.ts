import { z } from 'zod';
import { defineWrite, type JsonValue } from '../src/index.js';
import { transcriptEntryWrite } from './realtime-transcript.js';

/** Longest text a buffered field may hold. */
const MAX_TEXT = 2_000;
/** Largest call-session state, as JSON. */
const MAX_STATE_JSON_LENGTH = 16_384;

const text = (max = MAX_TEXT) => z.string().max(max, `must be at most ${max} characters`);
const nullableText = (max = MAX_TEXT) => text(max).nullable();

/** A Date or an ISO-8601 string with a time zone, stored as a UTC ISO string. */
const instant = z
  .union([z.date(), z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone' })])
  .transform((value) => new Date(value))
  .refine((date) => !Number.isNaN(date.getTime()), 'must be a valid date')
  .transform((date) => date.toISOString());

/** Lead fields an agent may learn during a call. Null clears a field. */
const leadFields = z
  .strictObject({
    customerName: nullableText(200).optional(),
    fullName: nullableText(200).optional(),
    firstName: nullableText(100).optional(),
    phone: z
      .string()
      .regex(/^\+?[0-9 ()-]{3,32}$/, 'must be a phone number (digits, spaces, +, -, parentheses)')
      .nullable()
      .optional(),
    gender: nullableText(32).optional(),
  })
  .refine((fields) => Object.values(fields).some((value) => value !== undefined), 'must set at least one field');

export type LeadFields = z.input<typeof leadFields>;

/** Twilio's final call statuses. */
export const FINAL_CALL_STATUSES = ['completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
export type FinalCallStatus = (typeof FINAL_CALL_STATUSES)[number];

/** The lead the call's context found (or the outbound call named), bound at call start. */
function leadOf(bindings: Readonly<Record<string, JsonValue>>): number | null {
  return typeof bindings.leadId === 'number' ? bindings.leadId : null;
}

/**
 * The receptionist's four writes, declared on the layer: what an agent may
 * buffer and how each lands at call end (one statement each, tenant-bound,
 * idempotent). Names and inputs are those of the first journal format, so
 * journals written before operations were declared are still recovered.
 */
export const receptionistWrites = {
  /** Updates fields of the call's lead (null clears a field); needs a lead. */
  updateLead: defineWrite({
    schema: z.strictObject({ fields: leadFields }),
    table: 'leads',
    kind: 'update',
    key: ['id'],
    tenantColumn: 'tenant_id',
    row: ({ fields }, call) => {
      const leadId = leadOf(call.bindings);
      if (leadId === null) throw new Error('the call has no lead (leadId)');
      return {
        id: leadId,
        customer_name: fields.customerName,
        full_name: fields.fullName,
        first_name: fields.firstName,
        phone: fields.phone,
        gender: fields.gender,
        updated_at: new Date().toISOString(),
      };
    },
  }),
  /** Books an appointment for the call's lead; `endsAt` must be after `startsAt`. */
  createAppointment: defineWrite({
    schema: z
      .strictObject({ startsAt: instant, endsAt: instant, title: text(200).min(1, 'must not be empty') })
      .refine((op) => op.endsAt > op.startsAt, { message: 'must be after startsAt', path: ['endsAt'] }),
    table: 'appointments',
    kind: 'insert',
    tenantColumn: 'business_id',
    idempotencyColumn: 'idempotency_key',
    row: (appointment, call) => ({
      lead_id: leadOf(call.bindings),
      call_sid: call.callSid,
      starts_at: appointment.startsAt,
      ends_at: appointment.endsAt,
      title: appointment.title,
      status: 'booked',
    }),
    /**
     * The slot was booked by another call first (another process: holds
     * keep this process's calls apart): the booking is kept as a conflict,
     * and the business gets a callback task, in the same transaction.
     */
    onConflict: (row) => ({
      instead: { ...row, status: 'conflict' },
      also: [
        {
          op: 'createCallbackTask',
          row: { call_sid: row.call_sid, lead_id: row.lead_id, reason: `the slot at ${String(row.starts_at)} was taken before this call's booking landed` },
        },
      ],
    }),
  }),
  /** A task for the business: call this caller back (a booking that lost its slot). */
  createCallbackTask: defineWrite({
    schema: z.strictObject({ reason: text(500).min(1, 'must not be empty') }),
    table: 'callback_tasks',
    kind: 'insert',
    tenantColumn: 'business_id',
    idempotencyColumn: 'idempotency_key',
    row: ({ reason }, call) => ({ call_sid: call.callSid, lead_id: leadOf(call.bindings), reason }),
  }),
  /** Merges `state` into the call session's state (top-level keys) and/or sets its summary. */
  updateSession: defineWrite({
    schema: z
      .strictObject({
        state: z
          .record(z.string().max(200), z.json())
          .refine((state) => JSON.stringify(state).length <= MAX_STATE_JSON_LENGTH, {
            message: `must be at most ${MAX_STATE_JSON_LENGTH} characters as JSON`,
          })
          .optional(),
        summary: nullableText(MAX_TEXT).optional(),
      })
      .refine((op) => op.state !== undefined || op.summary !== undefined, 'must set state or summary'),
    table: 'call_sessions',
    kind: 'upsert',
    key: ['call_sid'],
    tenantColumn: 'business_id',
    merge: { state: 'json', lead_id: 'keep' },
    row: ({ state, summary }, call) => ({
      call_sid: call.callSid,
      lead_id: leadOf(call.bindings),
      state: (state ?? {}) as Record<string, JsonValue>,
      summary,
      updated_at: new Date().toISOString(),
    }),
  }),
  /** The call's final status and duration, for its call log. */
  callOutcome: defineWrite({
    schema: z.strictObject({
      status: z.enum(FINAL_CALL_STATUSES, { message: `must be one of ${FINAL_CALL_STATUSES.join(', ')}` }),
      durationSeconds: z.number().int('must be an integer').min(0, 'must not be negative').max(86_400),
      /** Default: when the write is enqueued (then journaled, so a replay writes the same value). */
      endedAt: instant.optional(),
    }),
    table: 'call_logs',
    kind: 'upsert',
    key: ['call_sid'],
    tenantColumn: 'business_id',
    merge: { lead_id: 'keep' },
    row: ({ status, durationSeconds, endedAt }, call) => {
      const ended = endedAt ?? new Date().toISOString();
      return {
        call_sid: call.callSid,
        lead_id: leadOf(call.bindings),
        direction: call.bindings.direction === 'outbound' ? 'outbound' : 'inbound',
        status,
        duration_seconds: durationSeconds,
        started_at: new Date(Date.parse(ended) - durationSeconds * 1000).toISOString(),
        ended_at: ended,
      };
    },
  }),
  /** One entry of a voice-AI call's conversation (the Realtime agent's transcript). */
  transcriptEntry: transcriptEntryWrite,
};

export type ReceptionistWrites = typeof receptionistWrites;
