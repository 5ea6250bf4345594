import { z } from 'zod';
import { defineCallApp, positiveIntegerId } from '../src/index.js';
import type { CallContext } from './call-context.js';
import { receptionistContext } from './context.js';
import { receptionistWrites } from './operations.js';

/**
 * The reference app, declared to the layer: the tenant is the business (a
 * positive integer in the stream parameter `business_id`), the start-of-call
 * statement is the receptionist's JOIN, the writes are its four operations.
 * Rows may use the call's lead: the one the context found, or the one an
 * outbound call named.
 */
export const receptionistApp = defineCallApp({
  tenantParameter: 'business_id',
  tenant: positiveIntegerId,
  /** An outbound call names its lead. */
  parameters: z.object({
    lead_id: z
      .string()
      .refine((value) => positiveIntegerId.safeParse(value).success, 'lead_id must be a positive 32-bit integer')
      .optional(),
  }).catchall(z.string()),
  context: receptionistContext,
  writes: receptionistWrites,
  bindings: (context: CallContext | null, start) => {
    const named = start.parameters.lead_id;
    const leadId = context?.lead?.id ?? (named && positiveIntegerId.safeParse(named).success ? Number(named) : null);
    return { leadId };
  },
});

export type ReceptionistApp = typeof receptionistApp;
