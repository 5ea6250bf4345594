import type { JournalBackend, JournalError, TenantId } from '../../src/index.js';
import { WriteBuffer } from '../../src/buffer/write-buffer.js';
import { receptionistWrites, type FinalCallStatus, type LeadFields, type ReceptionistWrites } from '../../reference/operations.js';

export interface ReceptionistBufferOptions {
  callSid: string;
  streamSid?: string | null;
  businessId: TenantId;
  leadId?: number | null;
  direction?: 'inbound' | 'outbound';
  maxOperations?: number;
  journal?: JournalBackend;
  onJournalFailure?: (error: JournalError) => void;
}

/**
 * A WriteBuffer of the reference app's operations, with its writes by name
 * (the tests of the buffer layer run on the reference schema).
 */
export class ReceptionistBuffer extends WriteBuffer<ReceptionistWrites> {
  constructor({ businessId, leadId, direction, ...options }: ReceptionistBufferOptions) {
    super({ ...options, operations: receptionistWrites, tenantId: businessId, bindings: { leadId: leadId ?? null, direction: direction ?? 'inbound' } });
  }

  updateLead(fields: LeadFields) {
    return this.enqueue('updateLead', { fields });
  }

  createAppointment(appointment: { startsAt: Date | string; endsAt: Date | string; title: string }) {
    return this.enqueue('createAppointment', appointment);
  }

  updateSession(update: { state?: Record<string, unknown>; summary?: string | null }) {
    return this.enqueue('updateSession', update as never);
  }

  recordOutcome(outcome: { status: FinalCallStatus; durationSeconds: number; endedAt?: Date | string }) {
    return this.enqueue('callOutcome', outcome);
  }
}
