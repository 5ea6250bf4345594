import type { Knex } from 'knex';
import { DEMO_NUMBERS } from '../db/seed.js';
import type { SimulationSummary } from './simulate.js';

/**
 * Checks that the simulated calls left exactly the rows they should: each
 * call logged as completed with a session; one appointment per booking call
 * and none for the others; the caller's name captured on name calls.
 * @returns what is wrong, one line each (empty when all is right).
 */
export async function verifySimulation(knex: Knex, summary: SimulationSummary): Promise<string[]> {
  const problems: string[] = [];
  for (const call of summary.results) {
    if (!call.ok) {
      problems.push(`${call.callSid} (${call.scenario}) failed: ${call.error ?? call.closeCode}`);
      continue;
    }
    const business = (await knex('businesses').where({ phone_number: DEMO_NUMBERS[call.business] }).first('id')) as { id: number };
    const log = await knex('call_logs').where({ call_sid: call.callSid, business_id: business.id }).first('status');
    if (log?.status !== 'completed') problems.push(`${call.callSid}: call log status ${log?.status ?? 'missing'}, expected completed`);
    const session = await knex('call_sessions').where({ call_sid: call.callSid, business_id: business.id }).first('call_sid');
    if (!session) problems.push(`${call.callSid}: no call session`);
    const appointments = await knex('appointments').where({ call_sid: call.callSid }).count<[{ count: string }]>('* as count');
    const expected = call.scenario === 'book' ? 1 : 0;
    if (Number(appointments[0].count) !== expected) {
      problems.push(`${call.callSid} (${call.scenario}): ${appointments[0].count} appointments, expected ${expected}`);
    }
    if (call.scenario === 'name') {
      const lead = await knex('leads').where({ tenant_id: business.id, phone: call.caller }).first('customer_name');
      if (lead?.customer_name !== 'Alex Rivera') problems.push(`${call.callSid}: caller name not captured (${lead?.customer_name})`);
    }
  }
  return problems;
}
