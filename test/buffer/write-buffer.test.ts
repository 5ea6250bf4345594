import { describe, expect, it } from 'vitest';
import { ReceptionistBuffer } from '../helpers/receptionist-buffer.js';
import { ConfigError, InvalidWriteError, WriteBufferClosedError, WriteBufferFullError } from '../../src/errors.js';

const start = '2030-01-07T09:00:00.000Z';
const end = '2030-01-07T09:30:00.000Z';

function buffer(options: Partial<ConstructorParameters<typeof ReceptionistBuffer>[0]> = {}) {
  return new ReceptionistBuffer({ callSid: 'CA0001', businessId: 1, leadId: 7, ...options });
}

describe('WriteBuffer', () => {
  it('numbers each operation and keys it <callSid>:<seq>', () => {
    const b = buffer();
    const first = b.updateLead({ customerName: 'Dana' });
    const second = b.createAppointment({ startsAt: new Date(start), endsAt: end, title: 'Cleaning' });
    const third = b.updateSession({ state: { step: 'booked' }, summary: 'booked a cleaning' });
    const fourth = b.recordOutcome({ status: 'completed', durationSeconds: 95 });
    expect([first, second, third, fourth].map((w) => [w.seq, w.idempotencyKey])).toEqual([
      [1, 'CA0001:1'],
      [2, 'CA0001:2'],
      [3, 'CA0001:3'],
      [4, 'CA0001:4'],
    ]);
    expect(second).toMatchObject({ op: 'createAppointment', row: { starts_at: start, ends_at: end, title: 'Cleaning', business_id: 1, lead_id: 7, call_sid: 'CA0001' } });
    expect(fourth).toMatchObject({ op: 'callOutcome', row: { ended_at: expect.any(String), business_id: 1 } });
    expect(b.size).toBe(4);
  });

  it('enqueue is synchronous: it returns the write, not a promise', () => {
    const write = buffer().updateLead({ phone: '+15550001111' });
    expect(write).not.toBeInstanceOf(Promise);
    expect(Object.isFrozen(write)).toBe(true);
  });

  it.each([
    ['an appointment ending before it starts', { kind: 'createAppointment', startsAt: end, endsAt: start, title: 'x' }, 'endsAt'],
    ['an appointment without a title', { kind: 'createAppointment', startsAt: start, endsAt: end, title: '' }, 'title'],
    ['a date without a time zone', { kind: 'createAppointment', startsAt: '2030-01-07 09:00', endsAt: end, title: 'x' }, 'startsAt'],
    ['a lead field of the wrong type', { kind: 'updateLead', fields: { phone: 5551234 } }, 'fields.phone'],
    ['an unknown lead field', { kind: 'updateLead', fields: { tenant_id: 2 } }, 'tenant_id'],
    ['a lead update setting nothing', { kind: 'updateLead', fields: {} }, 'at least one field'],
    ['a negative duration', { kind: 'callOutcome', status: 'completed', durationSeconds: -1 }, 'durationSeconds'],
    ['an unknown status', { kind: 'callOutcome', status: 'exploded', durationSeconds: 1 }, 'status'],
    ['a session state that is not JSON', { kind: 'updateSession', state: { at: new Date() } }, 'state.at'],
    ['an unknown operation', { kind: 'dropTable' }, 'dropTable'],
  ])('rejects %s with InvalidWriteError naming the field; nothing buffered changes', (_name, op, field) => {
    const b = buffer();
    const kept = b.updateLead({ customerName: 'Dana' });
    let error: unknown;
    try {
      const { kind, ...input } = op as { kind: string };
      b.enqueue(kind as never, input as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidWriteError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_WRITE' });
    expect((error as Error).message).toContain(field);
    expect(b.writes()).toEqual([kept]);
    expect(b.updateSession({ summary: 'next' }).seq).toBe(2);
  });

  it('rejects a lead update when the call has no lead', () => {
    const b = buffer({ leadId: null });
    expect(() => b.updateLead({ customerName: 'Dana' })).toThrow(/no lead/);
    expect(b.size).toBe(0);
  });

  it('is bounded: past maxOperations, WriteBufferFullError, and the buffered ones stay', () => {
    const b = buffer({ maxOperations: 3 });
    for (let i = 0; i < 3; i++) b.updateSession({ state: { i } });
    expect(() => b.updateSession({ state: { i: 3 } })).toThrow(WriteBufferFullError);
    expect(b.writes().map((w) => w.seq)).toEqual([1, 2, 3]);
  });

  it('takes nothing after close: WriteBufferClosedError', () => {
    const b = buffer();
    b.updateLead({ customerName: 'Dana' });
    b.close();
    expect(() => b.updateLead({ customerName: 'Eve' })).toThrow(WriteBufferClosedError);
    expect(b.size).toBe(1);
  });

  it('fails at construction on bad options, naming the option', () => {
    expect(() => buffer({ callSid: 'a b' })).toThrow(ConfigError);
    expect(() => buffer({ businessId: {} as never })).toThrow(/tenantId/);
    expect(() => buffer({ maxOperations: 0 })).toThrow(/maxOperations/);
  });
});
