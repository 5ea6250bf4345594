import { z } from 'zod';

/**
 * A Twilio sid (call, stream, account): 1-64 printable ASCII characters, no
 * spaces (Twilio's are two letters and 32 hex digits). The ONE definition:
 * the media-stream protocol, the stream token and the journal all use it, so
 * whatever the protocol accepts the journal can store (file names encode it,
 * see journal-format.ts).
 */
export const SID_PATTERN = /^[\x21-\x7E]{1,64}$/;
export const sidSchema = z.string().regex(SID_PATTERN, 'must be 1-64 printable ASCII characters without spaces');

/** A call sid: see {@link sidSchema}. */
export const callSidSchema = sidSchema;

/** A serial id: a positive 32-bit integer, given as a number or a string of digits (stream parameters are strings). */
export const positiveIntegerId = z
  .union([z.number(), z.string().regex(/^\d{1,10}$/, 'must be a positive integer').transform(Number)])
  .pipe(z.number().int('must be a positive integer').min(1, 'must be a positive integer').max(2_147_483_647, 'must be at most 2147483647'));

