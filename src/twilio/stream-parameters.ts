import { z } from 'zod';
import type { TenantId } from '../buffer/journal-format.js';
import type { CallApp } from '../call-app.js';
import { describeZodError } from '../zod-error.js';

/** The one stream parameter the layer reads besides the tenant and the token. */
const directionSchema = z.enum(['inbound', 'outbound']).default('inbound');

/** A stream's parameters checked against the app's declaration: its tenant and direction, or what is wrong. */
export type ParsedStreamParameters =
  | { readonly ok: true; readonly tenantId: TenantId; readonly direction: 'inbound' | 'outbound' }
  | { readonly ok: false; readonly problem: string };

/**
 * Checks a stream's parameters (the token left out) as `start` does — the
 * tenant, the direction, the app's own parameters — so the webhook's
 * prefetch and the stream's `start` agree on what a call is.
 */
export function parseStreamParameters(app: CallApp, parameters: Readonly<Record<string, string>>): ParsedStreamParameters {
  const tenant = app.tenant.safeParse(parameters[app.tenantParameter]);
  const direction = directionSchema.safeParse(parameters.direction);
  const others = app.parameters?.safeParse(parameters);
  if (!tenant.success) return { ok: false, problem: `${app.tenantParameter} ${describeZodError(tenant.error)}` };
  if (!direction.success) return { ok: false, problem: `direction ${describeZodError(direction.error)}` };
  if (others && !others.success) return { ok: false, problem: describeZodError(others.error) };
  return { ok: true, tenantId: tenant.data, direction: direction.data };
}
