import type { Knex } from 'knex';

export interface Tenants {
  a: number;
  b: number;
  aLead: number;
  bLead: number;
}

/** Two businesses, a lead each, and a call log of B's (a row a call of A must never touch). */
export async function insertTenants(knex: Knex, suffix = ''): Promise<Tenants> {
  const [a, b] = (await knex('businesses')
    .insert([
      { name: `Alpha${suffix}`, phone_number: `+1555000${suffix}1` },
      { name: `Beta${suffix}`, phone_number: `+1555000${suffix}2` },
    ])
    .returning('id')) as Array<{ id: number }>;
  const [aLead, bLead] = (await knex('leads')
    .insert([
      { tenant_id: a!.id, full_name: 'Jane Smith', phone: '+15551230001' },
      { tenant_id: b!.id, full_name: 'Bob Beta', phone: '+15551230002' },
    ])
    .returning('id')) as Array<{ id: number }>;
  return { a: a!.id, b: b!.id, aLead: aLead!.id, bLead: bLead!.id };
}

/** Rows a call left, for comparing before and after. */
export async function snapshot(knex: Knex, callSid: string) {
  const [leads, appointments, sessions, logs] = await Promise.all([
    knex('leads').orderBy('id').select(),
    knex('appointments').where({ call_sid: callSid }).orderBy('idempotency_key').select(),
    knex('call_sessions').where({ call_sid: callSid }).select(),
    knex('call_logs').where({ call_sid: callSid }).select(),
  ]);
  return { leads, appointments, sessions, logs };
}
