import type { Knex } from 'knex';

/** Arbitrary key for the advisory lock that makes seeding race-free. */
const SEED_LOCK_KEY = 0x5eed_1ca1;

const WEEKDAYS_9_TO_5 = {
  mon: [['09:00', '17:00']],
  tue: [['09:00', '17:00']],
  wed: [['09:00', '17:00']],
  thu: [['09:00', '19:00']],
  fri: [['09:00', '13:00']],
  sat: [],
  sun: [],
};

const SUNDAY_TO_THURSDAY = {
  sun: [['08:00', '12:00'], ['13:00', '18:00']],
  mon: [['08:00', '12:00'], ['13:00', '18:00']],
  tue: [['08:00', '12:00'], ['13:00', '18:00']],
  wed: [['08:00', '12:00'], ['13:00', '18:00']],
  thu: [['08:00', '14:00']],
  fri: [],
  sat: [],
};

/** Phone numbers of the demo businesses: the numbers a simulated call dials. */
export const DEMO_NUMBERS = { dental: '+15005550006', plumbing: '+97235550100' } as const;

/** Phone numbers of the demo leads, by business: the callers of simulated calls. */
export const DEMO_CALLERS = {
  dental: ['+15551230001', '+15551230002', '+15551230003'],
  plumbing: ['+972525550001', '+972525550002'],
} as const;

/**
 * Inserts demo data when the database has no business yet. Applied once:
 * concurrent callers serialise on an advisory lock and the later ones find
 * the data there.
 * @returns true when it inserted the data now.
 */
export async function seedDemoData(knex: Knex): Promise<boolean> {
  return knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [SEED_LOCK_KEY]);
    const existing = await trx('businesses').first('id');
    if (existing) return false;

    const [dental, plumbing] = (await trx('businesses')
      .insert([
        { name: 'Bright Smile Dental', phone_number: DEMO_NUMBERS.dental },
        { name: 'Shalom Plumbing', phone_number: DEMO_NUMBERS.plumbing },
      ])
      .returning('id')) as Array<{ id: number }>;

    await trx('business_settings').insert([
      {
        tenant_id: dental!.id,
        opening_hours_json: JSON.stringify(WEEKDAYS_9_TO_5),
        working_hours: 'Mon-Wed 9-17, Thu 9-19, Fri 9-13',
        greeting: 'Thank you for calling Bright Smile Dental, how can I help you today?',
        prompt: 'You are the receptionist of a dental clinic. Book check-ups and cleanings.',
        timezone: 'America/New_York',
      },
      {
        tenant_id: plumbing!.id,
        opening_hours_json: JSON.stringify(SUNDAY_TO_THURSDAY),
        working_hours: 'Sun-Wed 8-18, Thu 8-14',
        greeting: 'שלום, הגעתם לשלום אינסטלציה. במה אפשר לעזור?',
        prompt: 'You take plumbing repair requests and book a technician visit.',
        timezone: 'Asia/Jerusalem',
      },
    ]);

    const leads = (await trx('leads')
      .insert([
        { tenant_id: dental!.id, full_name: 'Dr. Jane Q. Smith', phone: DEMO_CALLERS.dental[0], gender: 'female' },
        { tenant_id: dental!.id, full_name: "Michael O'Brien", first_name: 'Michael', phone: DEMO_CALLERS.dental[1], gender: 'male' },
        { tenant_id: dental!.id, full_name: 'Cher', phone: DEMO_CALLERS.dental[2] },
        { tenant_id: plumbing!.id, full_name: 'יוסי כהן', phone: DEMO_CALLERS.plumbing[0], gender: 'male' },
        { tenant_id: plumbing!.id, full_name: '  Dana   Levi  ', customer_name: 'Dana', phone: DEMO_CALLERS.plumbing[1], gender: 'female' },
      ])
      .returning(['id', 'tenant_id'])) as Array<{ id: number; tenant_id: number }>;

    await trx('call_logs').insert([
      {
        call_sid: 'CAdemo0000000000000000000000000001',
        business_id: dental!.id,
        lead_id: leads[0]!.id,
        direction: 'inbound',
        status: 'completed',
        duration_seconds: 95,
        started_at: trx.raw(`now() - interval '2 days'`),
        ended_at: trx.raw(`now() - interval '2 days' + interval '95 seconds'`),
      },
      {
        call_sid: 'CAdemo0000000000000000000000000002',
        business_id: dental!.id,
        lead_id: leads[1]!.id,
        direction: 'outbound',
        status: 'no-answer',
        duration_seconds: 0,
        started_at: trx.raw(`now() - interval '1 day'`),
        ended_at: trx.raw(`now() - interval '1 day'`),
      },
      {
        call_sid: 'CAdemo0000000000000000000000000003',
        business_id: plumbing!.id,
        lead_id: leads[3]!.id,
        direction: 'inbound',
        status: 'completed',
        duration_seconds: 240,
        started_at: trx.raw(`now() - interval '3 hours'`),
        ended_at: trx.raw(`now() - interval '3 hours' + interval '240 seconds'`),
      },
    ]);
    return true;
  });
}
