import { z } from 'zod';

/**
 * A call sid: Twilio's `CA` + 32 hex digits, or any 1-64 characters of
 * letters, digits, `_` and `-` (simulated calls). Kept that narrow because
 * it names journal files.
 */
export const callSidSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');

/** A serial id: a positive 32-bit integer, given as a number or a string of digits (stream parameters are strings). */
export const rowIdSchema = z
  .union([z.number(), z.string().regex(/^\d{1,10}$/, 'must be a positive integer').transform(Number)])
  .pipe(z.number().int('must be a positive integer').min(1, 'must be a positive integer').max(2_147_483_647));

/** What identifies a call: its sid, its business (the tenant), and for an outbound call its lead. */
export const callIdsSchema = z.object({
  callSid: callSidSchema,
  businessId: rowIdSchema,
  leadId: rowIdSchema.nullish().transform((value) => value ?? null),
});

export type CallIdsInput = z.input<typeof callIdsSchema>;
export type CallIds = z.output<typeof callIdsSchema>;
