import { z } from 'zod';

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
export const leadFieldsSchema = z
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

const updateLeadSchema = z.strictObject({ kind: z.literal('updateLead'), fields: leadFieldsSchema });

const createAppointmentSchema = z
  .strictObject({
    kind: z.literal('createAppointment'),
    startsAt: instant,
    endsAt: instant,
    title: text(200).min(1, 'must not be empty'),
  })
  .refine((op) => op.endsAt > op.startsAt, { message: 'must be after startsAt', path: ['endsAt'] });

const updateSessionSchema = z
  .strictObject({
    kind: z.literal('updateSession'),
    /** Merged into the session's state, key by key (top level), in order. */
    state: z
      .record(z.string().max(200), z.json())
      .refine((state) => JSON.stringify(state).length <= MAX_STATE_JSON_LENGTH, {
        message: `must be at most ${MAX_STATE_JSON_LENGTH} characters as JSON`,
      })
      .optional(),
    summary: nullableText(MAX_TEXT).optional(),
  })
  .refine((op) => op.state !== undefined || op.summary !== undefined, 'must set state or summary');

/** Twilio's final call statuses. */
export const FINAL_CALL_STATUSES = ['completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;

const callOutcomeSchema = z.strictObject({
  kind: z.literal('callOutcome'),
  status: z.enum(FINAL_CALL_STATUSES, { message: `must be one of ${FINAL_CALL_STATUSES.join(', ')}` }),
  durationSeconds: z.number().int('must be an integer').min(0, 'must not be negative').max(86_400),
  /** Default: when the operation is enqueued (fixed then, so a replay writes the same value). */
  endedAt: instant.optional(),
});

/** Any buffered operation, discriminated by `kind`. */
export const writeOperationSchema = z.discriminatedUnion('kind', [
  updateLeadSchema,
  createAppointmentSchema,
  updateSessionSchema,
  callOutcomeSchema,
]);

/** An operation as the agent gives it (dates as Date or ISO strings). */
export type WriteOperationInput = z.input<typeof writeOperationSchema>;
/** An operation as buffered and journaled (dates as UTC ISO strings). */
export type WriteOperation = z.output<typeof writeOperationSchema>;
export type LeadFields = z.input<typeof leadFieldsSchema>;
export type FinalCallStatus = (typeof FINAL_CALL_STATUSES)[number];

/** A buffered operation: its place in the call and its idempotency key `<callSid>:<seq>`. */
export interface BufferedWrite {
  readonly seq: number;
  readonly idempotencyKey: string;
  readonly op: WriteOperation;
}
