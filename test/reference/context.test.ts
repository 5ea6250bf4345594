import { trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallContext } from '../../reference/call-context.js';
import { receptionistContext } from '../../reference/context.js';
import { createKnex } from '../../reference/db/knex.js';
import { CallContextLoadError, loadContext, UnknownTenantError, type LoadContextOptions } from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startPgWireCounter, type PgWireCounter } from '../helpers/pg-wire-counter.js';
import { pgSpans, spanExporter } from '../helpers/spans.js';

/** The receptionist's JOIN through the layer's loader, as the media stream runs it. */
function loadCallContext(
  knex: Knex,
  ids: { callSid: string; businessId: number; leadId?: number | null },
  options: LoadContextOptions = {},
): Promise<CallContext> {
  const parameters: Record<string, string> = ids.leadId ? { lead_id: String(ids.leadId) } : {};
  return loadContext(knex, receptionistContext, { callSid: ids.callSid, streamSid: null, tenantId: ids.businessId, parameters }, options);
}

interface Fixture {
  a: number;
  b: number;
  aLead: number;
  aOtherLead: number;
  bLead: number;
}

async function insertFixture(knex: Knex): Promise<Fixture> {
  const [a, b] = (await knex('businesses')
    .insert([
      { name: 'Alpha Dental', phone_number: '+15550000001' },
      { name: 'Beta Plumbing', phone_number: '+15550000002' },
    ])
    .returning('id')) as Array<{ id: number }>;
  await knex('business_settings').insert({
    tenant_id: a!.id,
    opening_hours_json: JSON.stringify({ mon: [['09:00', '17:00']] }),
    working_hours: 'Mon 9-17',
    greeting: 'Hello from Alpha',
    prompt: 'Be kind',
    timezone: 'America/New_York',
  });
  const [aLead, aOtherLead, bLead] = (await knex('leads')
    .insert([
      { tenant_id: a!.id, full_name: 'Dr. Jane Q. Smith', phone: '+15551230001', gender: 'female' },
      { tenant_id: a!.id, full_name: 'Cher', customer_name: 'Cher', phone: '+15551230003' },
      { tenant_id: b!.id, full_name: 'יוסי כהן', phone: '+972525550001', gender: 'male' },
    ])
    .returning('id')) as Array<{ id: number }>;
  await knex('call_logs').insert([
    { call_sid: 'CA_A_INBOUND', business_id: a!.id, lead_id: aLead!.id, direction: 'inbound', status: 'in-progress' },
    { call_sid: 'CA_B_INBOUND', business_id: b!.id, lead_id: bLead!.id, direction: 'inbound', status: 'in-progress' },
  ]);
  return { a: a!.id, b: b!.id, aLead: aLead!.id, aOtherLead: aOtherLead!.id, bLead: bLead!.id };
}

/** Query spans (not connect/pool spans) of a trace. */
function queryNames(traceId: string): string[] {
  return pgSpans(traceId)
    .map((span) => span.name)
    .filter((name) => !name.includes('connect'));
}

describe('loadCallContext', () => {
  let db: TestDatabase;
  let wire: PgWireCounter;
  let viaWire: Knex;
  let f: Fixture;

  beforeAll(async () => {
    db = await createTestDatabase();
    f = await insertFixture(db.knex);
    wire = await startPgWireCounter(db.url);
    viaWire = createKnex(wire.url, { poolMax: 2 });
  });
  afterAll(async () => {
    await viaWire.destroy();
    await wire.close();
    await db.drop();
  });

  /** Loads through the wire counter in a fresh trace; returns the context and both statement counts. */
  async function load(ids: Parameters<typeof loadCallContext>[1]) {
    wire.reset();
    const { context, traceId } = await trace.getTracer('test').startActiveSpan('test.call', async (span) => {
      try {
        return { context: await loadCallContext(viaWire, ids), traceId: span.spanContext().traceId };
      } finally {
        span.end();
      }
    });
    const loadSpan = spanExporter()
      .getFinishedSpans()
      .find((span) => span.name === 'call.load_context' && span.spanContext().traceId === traceId);
    const queries = pgSpans(traceId).filter((span) => !span.name.includes('connect'));
    return {
      context,
      serverStatements: wire.statements(),
      pgQueries: queries,
      loadSpan,
      underLoadSpan: queries.every((span) => span.parentSpanContext?.spanId === loadSpan?.spanContext().spanId),
    };
  }

  it('inbound call with a call log and lead: one statement, everything loaded, frozen', async () => {
    const result = await load({ callSid: 'CA_A_INBOUND', businessId: f.a });
    expect(result.serverStatements).toHaveLength(1);
    expect(result.serverStatements[0]!.sql).toMatch(/^select q\.\* from \(select 1\) .* from "businesses" as "b" left join/is);
    expect(result.pgQueries).toHaveLength(1);
    expect(result.underLoadSpan).toBe(true);
    expect(result.loadSpan?.attributes).toMatchObject({ 'call.sid': 'CA_A_INBOUND', 'tenant.id': String(f.a) });

    const context: CallContext = result.context;
    expect(context).toMatchObject({
      callSid: 'CA_A_INBOUND',
      business: { id: f.a, name: 'Alpha Dental' },
      settings: {
        openingHours: { mon: [['09:00', '17:00']] },
        workingHours: 'Mon 9-17',
        greeting: 'Hello from Alpha',
        prompt: 'Be kind',
        timezone: 'America/New_York',
      },
      callLog: { callSid: 'CA_A_INBOUND', leadId: f.aLead, direction: 'inbound', status: 'in-progress' },
      lead: { id: f.aLead, fullName: 'Dr. Jane Q. Smith', phone: '+15551230001', gender: 'female' },
      firstName: 'Jane',
    });
    expect(Object.isFrozen(context)).toBe(true);
    expect(Object.isFrozen(context.lead)).toBe(true);
    expect(Object.isFrozen(context.settings!.openingHours.mon)).toBe(true);
    expect(() => {
      (context as { firstName: string | null }).firstName = 'Mallory';
    }).toThrow(TypeError);
  });

  it('outbound call whose lead comes from leadId: one statement', async () => {
    const result = await load({ callSid: 'CA_A_OUTBOUND_NEW', businessId: f.a, leadId: f.aOtherLead });
    expect(result.serverStatements).toHaveLength(1);
    expect(result.pgQueries).toHaveLength(1);
    expect(result.context.callLog).toBeNull();
    expect(result.context.lead).toMatchObject({ id: f.aOtherLead, customerName: 'Cher' });
    expect(result.context.firstName).toBe('Cher');
  });

  it('a call not yet in call_logs, no lead: one statement, business and settings only', async () => {
    const result = await load({ callSid: 'CA_BRAND_NEW', businessId: f.b });
    expect(result.serverStatements).toHaveLength(1);
    expect(result.pgQueries).toHaveLength(1);
    expect(result.context).toMatchObject({
      business: { id: f.b, name: 'Beta Plumbing' },
      settings: null,
      callLog: null,
      lead: null,
      firstName: null,
    });
  });

  it("tenant-bound: another business's call sid yields nothing of it", async () => {
    const { context, serverStatements } = await load({ callSid: 'CA_B_INBOUND', businessId: f.a });
    expect(serverStatements).toHaveLength(1);
    expect(context.business.id).toBe(f.a);
    expect(context.callLog).toBeNull();
    expect(context.lead).toBeNull();
  });

  it("tenant-bound: another business's lead id yields nothing of it", async () => {
    const { context } = await load({ callSid: 'CA_A_INBOUND', businessId: f.a, leadId: f.bLead });
    expect(context.callLog?.id).toBeTypeOf('number');
    expect(context.lead).toBeNull();
    expect(JSON.stringify(context)).not.toContain('יוסי');
  });

  it('an unknown business is ERR_UNKNOWN_TENANT, after one statement', async () => {
    wire.reset();
    const error = await loadCallContext(viaWire, { callSid: 'CA_A_INBOUND', businessId: 999_999 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownTenantError);
    expect(error).toMatchObject({ code: 'ERR_UNKNOWN_TENANT' });
    expect(wire.statements()).toHaveLength(1);
  });

  it('a bad timeout option fails at once, naming it', async () => {
    await expect(loadCallContext(viaWire, { callSid: 'CA1', businessId: f.a }, { timeoutMs: 0 })).rejects.toThrow(
      /timeoutMs must be a positive integer \(received 0\)/,
    );
  });

  it('a load that exceeds the timeout is ERR_CONTEXT_LOAD_FAILED, not a hang', async () => {
    const holder = await db.knex.transaction();
    try {
      // An exclusive lock makes the load's SELECT wait for as long as the lock is held.
      await holder.raw('lock table business_settings in access exclusive mode');
      const error = await loadCallContext(db.knex, { callSid: 'CA_A_INBOUND', businessId: f.a }, { timeoutMs: 100 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CallContextLoadError);
      expect(error).toMatchObject({ code: 'ERR_CONTEXT_LOAD_FAILED' });
      expect((error as Error).message).toMatch(/longer than 100 ms/);
    } finally {
      await holder.rollback();
    }
  });

  it('a load against an unreachable database is ERR_CONTEXT_LOAD_FAILED with the cause', async () => {
    const unreachable = await startPgWireCounter(db.url);
    unreachable.setRefusing(true);
    const knex = createKnex(unreachable.url, { poolMax: 1 });
    try {
      const error = await loadCallContext(knex, { callSid: 'CA_A_INBOUND', businessId: f.a }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CallContextLoadError);
      expect((error as Error).cause).toBeInstanceOf(Error);
    } finally {
      await knex.destroy();
      await unreachable.close();
    }
  });

  it('the pg spans of a load are query spans of the real instrumentation', async () => {
    const { pgQueries } = await load({ callSid: 'CA_A_INBOUND', businessId: f.a });
    expect(pgQueries[0]!.instrumentationScope.name).toBe('@opentelemetry/instrumentation-pg');
    expect(queryNames(pgQueries[0]!.spanContext().traceId)).toHaveLength(1);
  });
});
