import type { JsonValue } from '../context/call-context.js';
import type { BufferedWrite, FinalCallStatus, LeadFields } from './operations.js';

const LEAD_COLUMNS = {
  customerName: 'customer_name',
  fullName: 'full_name',
  firstName: 'first_name',
  phone: 'phone',
  gender: 'gender',
} as const satisfies Record<keyof LeadFields, string>;

export type LeadColumn = (typeof LEAD_COLUMNS)[keyof typeof LEAD_COLUMNS];

export interface PlannedAppointment {
  readonly idempotencyKey: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly title: string;
}

/** A buffer's writes merged into at most one statement per table. */
export interface FlushPlan {
  /** Lead columns to set (later writes win); undefined: leads untouched. */
  readonly lead: Partial<Record<LeadColumn, string | null>> | undefined;
  /** Appointments to insert, each with its idempotency key. */
  readonly appointments: readonly PlannedAppointment[];
  /** State merged key by key in order; summary undefined: left as it is. Undefined: call_sessions untouched. */
  readonly session: { readonly state: Record<string, JsonValue>; readonly summary: string | null | undefined } | undefined;
  /** The last outcome given; undefined: call_logs untouched. */
  readonly outcome: { readonly status: FinalCallStatus; readonly durationSeconds: number; readonly endedAt: string } | undefined;
}

/** Merges buffered writes, in sequence order, into a {@link FlushPlan}. Pure. */
export function planFlush(writes: readonly BufferedWrite[]): FlushPlan {
  let lead: Partial<Record<LeadColumn, string | null>> | undefined;
  const appointments: PlannedAppointment[] = [];
  let session: { state: Record<string, JsonValue>; summary: string | null | undefined } | undefined;
  let outcome: FlushPlan['outcome'];
  for (const { op, idempotencyKey } of [...writes].sort((a, b) => a.seq - b.seq)) {
    switch (op.kind) {
      case 'updateLead':
        lead ??= {};
        for (const [field, value] of Object.entries(op.fields)) {
          if (value !== undefined) lead[LEAD_COLUMNS[field as keyof LeadFields]] = value;
        }
        break;
      case 'createAppointment':
        appointments.push({ idempotencyKey, startsAt: op.startsAt, endsAt: op.endsAt, title: op.title });
        break;
      case 'updateSession':
        session ??= { state: {}, summary: undefined };
        if (op.state) Object.assign(session.state, op.state);
        if (op.summary !== undefined) session.summary = op.summary;
        break;
      case 'callOutcome':
        outcome = { status: op.status, durationSeconds: op.durationSeconds, endedAt: op.endedAt ?? new Date().toISOString() };
        break;
    }
  }
  return { lead, appointments, session, outcome };
}

/** Whether a plan writes nothing. */
export function isEmptyPlan(plan: FlushPlan): boolean {
  return !plan.lead && plan.appointments.length === 0 && !plan.session && !plan.outcome;
}
