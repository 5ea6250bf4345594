import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flush } from '../../src/buffer/flush-transaction.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { ReceptionistBuffer } from '../helpers/receptionist-buffer.js';
import { spanExporter } from '../helpers/spans.js';
import { insertTenants, type Tenants } from './fixture-data.js';

const SLOT = { startsAt: '2031-03-03T09:00:00Z', endsAt: '2031-03-03T09:30:00Z', title: 'Cleaning' };

describe('flush: a conflict policy', () => {
  let db: TestDatabase;
  let t: Tenants;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await insertTenants(db.knex);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('a slot booked first by another call: the booking lands as a conflict with a callback task, the rest of the call lands, all in one transaction', async () => {
    const first = new ReceptionistBuffer({ callSid: 'CA_SLOT_FIRST', businessId: t.a, leadId: t.aLead });
    first.createAppointment(SLOT);
    await flush(db.knex, first);

    const second = new ReceptionistBuffer({ callSid: 'CA_SLOT_SECOND', businessId: t.a, leadId: t.aLead });
    second.createAppointment({ ...SLOT, startsAt: '2031-03-03T09:15:00Z', endsAt: '2031-03-03T09:45:00Z' }); // overlaps, another start
    second.updateSession({ summary: 'booked, we will text to confirm' });
    second.recordOutcome({ status: 'completed', durationSeconds: 30 });
    const { result, traceId } = await trace.getTracer('test').startActiveSpan('test.call_end', async (span) => {
      try {
        return { result: await flush(db.knex, second), traceId: span.spanContext().traceId };
      } finally {
        span.end();
      }
    });

    expect(result.conflicts).toEqual([{ op: 'createAppointment', idempotencyKey: 'CA_SLOT_SECOND:1' }]);
    const appointments = await db.knex('appointments').where({ business_id: t.a }).orderBy('call_sid').select('call_sid', 'status');
    expect(appointments).toEqual([
      { call_sid: 'CA_SLOT_FIRST', status: 'booked' },
      { call_sid: 'CA_SLOT_SECOND', status: 'conflict' },
    ]);
    expect(await db.knex('callback_tasks').where({ call_sid: 'CA_SLOT_SECOND' }).select('business_id', 'lead_id', 'idempotency_key')).toEqual([
      { business_id: t.a, lead_id: t.aLead, idempotency_key: 'CA_SLOT_SECOND:1:createCallbackTask:1' },
    ]);
    expect(await db.knex('call_sessions').where({ call_sid: 'CA_SLOT_SECOND' }).first('summary')).toEqual({ summary: 'booked, we will text to confirm' });
    expect(await db.knex('call_logs').where({ call_sid: 'CA_SLOT_SECOND' }).first('status')).toEqual({ status: 'completed' });

    const flushSpan = spanExporter()
      .getFinishedSpans()
      .find((span) => span.name === 'call.flush' && span.spanContext().traceId === traceId)!;
    expect(flushSpan.attributes['call.flush.conflicts']).toBe(1);
    expect(flushSpan.events.map((event) => [event.name, event.attributes?.['live_call.write.idempotency_key']])).toEqual([
      ['live_call.write_conflict', 'CA_SLOT_SECOND:1'],
    ]);

    // A replay (recovery after a crash) changes nothing: no second conflict row, no second task.
    const again = await flush(db.knex, second);
    expect(again.conflicts).toEqual([]);
    expect(await db.knex('appointments').where({ call_sid: 'CA_SLOT_SECOND' })).toHaveLength(1);
    expect(await db.knex('callback_tasks').where({ call_sid: 'CA_SLOT_SECOND' })).toHaveLength(1);
  });

  it('another business may book the same time', async () => {
    const other = new ReceptionistBuffer({ callSid: 'CA_SLOT_OTHER_BUSINESS', businessId: t.b, leadId: t.bLead });
    other.createAppointment(SLOT);
    expect((await flush(db.knex, other)).conflicts).toEqual([]);
    expect(await db.knex('appointments').where({ call_sid: 'CA_SLOT_OTHER_BUSINESS' }).first('status')).toEqual({ status: 'booked' });
  });

  it('the database refuses two overlapping booked appointments of one business, whoever writes them', async () => {
    const row = { business_id: t.a, starts_at: '2031-03-03T09:10:00Z', ends_at: '2031-03-03T09:20:00Z', title: 'x', idempotency_key: 'direct-1' };
    await expect(db.knex('appointments').insert(row)).rejects.toMatchObject({ code: '23P01' });
  });
});
