import { trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flush, type FlushResult } from '../../src/buffer/flush-transaction.js';
import { ReceptionistBuffer } from '../helpers/receptionist-buffer.js';
import { createKnex } from '../../reference/db/knex.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startPgWireCounter, type PgWireCounter } from '../helpers/pg-wire-counter.js';
import { pgSpans, spanExporter } from '../helpers/spans.js';
import { insertTenants, snapshot, type Tenants } from './fixture-data.js';

function fullBuffer(callSid: string, businessId: number, leadId: number | null): ReceptionistBuffer {
  const buffer = new ReceptionistBuffer({ callSid, businessId, leadId });
  if (leadId !== null) {
    buffer.updateLead({ customerName: 'Dana' });
    buffer.updateLead({ phone: '+15550009999', customerName: 'Dana Levi' });
  }
  buffer.createAppointment({ startsAt: '2030-01-07T09:00:00Z', endsAt: '2030-01-07T09:30:00Z', title: 'Cleaning' });
  buffer.createAppointment({ startsAt: '2030-01-08T09:00:00Z', endsAt: '2030-01-08T09:30:00Z', title: 'Check-up' });
  buffer.updateSession({ state: { step: 'greeting', lang: 'en' } });
  buffer.updateSession({ state: { step: 'booked' }, summary: 'Booked two visits' });
  buffer.recordOutcome({ status: 'completed', durationSeconds: 95, endedAt: '2030-01-01T10:00:00Z' });
  return buffer;
}

const tablesOf = (result: FlushResult) => result.statements.map((statement) => statement.table);
const appointmentsInserted = (result: FlushResult) => result.statements.find((statement) => statement.op === 'createAppointment')?.affected ?? 0;

describe('flush', () => {
  let db: TestDatabase;
  let wire: PgWireCounter;
  let viaWire: Knex;
  let t: Tenants;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await insertTenants(db.knex);
    wire = await startPgWireCounter(db.url);
    viaWire = createKnex(wire.url, { poolMax: 2 });
  });
  afterAll(async () => {
    await viaWire.destroy();
    await wire.close();
    await db.drop();
  });

  it('is one transaction: BEGIN, one statement per table, COMMIT (on the wire and in pg spans)', async () => {
    const buffer = fullBuffer('CA_FLUSH_1', t.a, t.aLead);
    wire.reset();
    const { result, traceId } = await trace.getTracer('test').startActiveSpan('test.call_end', async (span) => {
      try {
        return { result: await flush(viaWire, buffer), traceId: span.spanContext().traceId };
      } finally {
        span.end();
      }
    });
    const sql = wire.statements().map((s) => s.sql.trim().split(/\s+/).slice(0, 3).join(' ').toLowerCase());
    expect(sql).toEqual(['begin;', 'update "leads" as', 'with "input" as', 'insert into "call_sessions"', 'insert into "call_logs"', 'commit;']);
    expect(tablesOf(result)).toEqual(['leads', 'appointments', 'call_sessions', 'call_logs']);
    expect(appointmentsInserted(result)).toBe(2);

    const flushSpan = spanExporter()
      .getFinishedSpans()
      .find((span) => span.name === 'call.flush' && span.spanContext().traceId === traceId)!;
    expect(flushSpan.attributes).toMatchObject({ 'call.sid': 'CA_FLUSH_1', 'tenant.id': String(t.a), 'call.writes': 7 });
    const queries = pgSpans(traceId).filter((span) => !span.name.includes('connect'));
    expect(queries).toHaveLength(6);
    expect(queries.every((span) => span.parentSpanContext?.spanId === flushSpan.spanContext().spanId)).toBe(true);

    const rows = await snapshot(db.knex, 'CA_FLUSH_1');
    expect(rows.leads.find((l) => l.id === t.aLead)).toMatchObject({ customer_name: 'Dana Levi', phone: '+15550009999' });
    expect(rows.appointments.map((a) => [a.idempotency_key, a.title, a.business_id, a.lead_id])).toEqual([
      ['CA_FLUSH_1:3', 'Cleaning', t.a, t.aLead],
      ['CA_FLUSH_1:4', 'Check-up', t.a, t.aLead],
    ]);
    expect(rows.sessions).toEqual([
      expect.objectContaining({ business_id: t.a, lead_id: t.aLead, state: { step: 'booked', lang: 'en' }, summary: 'Booked two visits' }),
    ]);
    expect(rows.logs).toEqual([
      expect.objectContaining({ business_id: t.a, status: 'completed', duration_seconds: 95, direction: 'inbound' }),
    ]);
  });

  it('touches only the tables the writes need', async () => {
    const buffer = new ReceptionistBuffer({ callSid: 'CA_FLUSH_2', businessId: t.a });
    buffer.updateSession({ summary: 'hung up early' });
    wire.reset();
    const result = await flush(viaWire, buffer);
    expect(tablesOf(result)).toEqual(['call_sessions']);
    expect(wire.statements()).toHaveLength(3);
  });

  it('an empty buffer issues no statement at all', async () => {
    wire.reset();
    const result = await flush(viaWire, new ReceptionistBuffer({ callSid: 'CA_FLUSH_EMPTY', businessId: t.a }));
    expect(tablesOf(result)).toEqual([]);
    expect(wire.statements()).toHaveLength(0);
  });

  it('is idempotent: a second flush of the same buffer adds and changes nothing', async () => {
    const buffer = fullBuffer('CA_FLUSH_3', t.a, t.aLead);
    await flush(db.knex, buffer);
    const before = await snapshot(db.knex, 'CA_FLUSH_3');
    const again = await flush(db.knex, buffer);
    expect(appointmentsInserted(again)).toBe(0);
    expect(await snapshot(db.knex, 'CA_FLUSH_3')).toEqual(before);
  });

  it('merges session state into what is there', async () => {
    await db.knex('call_sessions').insert({ call_sid: 'CA_FLUSH_4', business_id: t.a, state: JSON.stringify({ kept: 1, step: 'old' }) });
    const buffer = new ReceptionistBuffer({ callSid: 'CA_FLUSH_4', businessId: t.a });
    buffer.updateSession({ state: { step: 'new' } });
    await flush(db.knex, buffer);
    const [row] = await db.knex('call_sessions').where({ call_sid: 'CA_FLUSH_4' });
    expect(row).toMatchObject({ state: { kept: 1, step: 'new' }, summary: null });
  });

  it("tenant-bound: a call of A given B's lead changes none of B's rows (the write is rejected as a tenant mismatch)", async () => {
    const before = await snapshot(db.knex, 'CA_B_CALL');
    const buffer = new ReceptionistBuffer({ callSid: 'CA_TENANT_1', businessId: t.a, leadId: t.bLead });
    buffer.updateLead({ customerName: 'Mallory', phone: '+15550006666' });
    const result = await flush(db.knex, buffer);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]!.write.op).toBe('updateLead');
    expect(result.rejected[0]!.reason).toMatchObject({ name: 'TenantMismatchError', code: 'ERR_TENANT_MISMATCH' });
    expect(result.rejected[0]!.reason.message).toMatch(/updateLead row\(s\) in leads are not tenant .*'s/);
    expect((await snapshot(db.knex, 'CA_B_CALL')).leads).toEqual(before.leads);
  });

  it("tenant-bound: B's lead in an appointment of A is refused by the composite foreign key", async () => {
    const buffer = new ReceptionistBuffer({ callSid: 'CA_TENANT_2', businessId: t.a, leadId: t.bLead });
    buffer.createAppointment({ startsAt: '2030-01-07T09:00:00Z', endsAt: '2030-01-07T09:30:00Z', title: 'x' });
    const result = await flush(db.knex, buffer);
    expect(result.rejected.map(({ reason }) => reason.code)).toEqual(['23503']);
    expect(await db.knex('appointments').where({ call_sid: 'CA_TENANT_2' })).toEqual([]);
  });

  it("tenant-bound: a call of A with the call sid of B's call or session changes none of B's rows", async () => {
    await db.knex('call_logs').insert({ call_sid: 'CA_B_CALL', business_id: t.b, lead_id: t.bLead, status: 'in-progress' });
    await db.knex('call_sessions').insert({ call_sid: 'CA_B_CALL', business_id: t.b, lead_id: t.bLead, summary: 'B' });
    const before = await snapshot(db.knex, 'CA_B_CALL');

    const outcome = new ReceptionistBuffer({ callSid: 'CA_B_CALL', businessId: t.a });
    outcome.recordOutcome({ status: 'failed', durationSeconds: 1 });
    expect((await flush(db.knex, outcome)).rejected[0]!.reason.message).toMatch(/CA_B_CALL: 1 callOutcome row\(s\) in call_logs are not tenant/);

    const session = new ReceptionistBuffer({ callSid: 'CA_B_CALL', businessId: t.a });
    session.updateSession({ state: { hijacked: true }, summary: 'A' });
    expect((await flush(db.knex, session)).rejected[0]!.reason.message).toMatch(/CA_B_CALL: 1 updateSession row\(s\) in call_sessions are not tenant/);

    expect(await snapshot(db.knex, 'CA_B_CALL')).toEqual(before);
  });

  it('a stale or foreign key on one write: that write is rejected, the rest of the call lands in one transaction, the journal stays for the dead letter', async () => {
    // call_sessions is written first and succeeds; call_logs then finds B's call with this sid.
    await db.knex('call_logs').insert({ call_sid: 'CA_ROLLBACK', business_id: t.b, status: 'in-progress' });
    const buffer = new ReceptionistBuffer({ callSid: 'CA_ROLLBACK', businessId: t.a });
    buffer.updateSession({ summary: 'lands' });
    buffer.recordOutcome({ status: 'completed', durationSeconds: 3 });
    const result = await flush(db.knex, buffer);
    expect(result.rejected.map(({ write, reason }) => [write.op, reason.code])).toEqual([['callOutcome', 'ERR_TENANT_MISMATCH']]);
    expect(result.statements.map((statement) => statement.op)).toEqual(['updateSession']);
    expect(await db.knex('call_sessions').where({ call_sid: 'CA_ROLLBACK' }).first('summary')).toEqual({ summary: 'lands' });
    expect(await db.knex('call_logs').where({ call_sid: 'CA_ROLLBACK' }).first('business_id')).toEqual({ business_id: t.b });
  });
});
