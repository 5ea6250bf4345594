import { describe, expect, it } from 'vitest';
import { nextFreeSlot } from '../../reference/opening-hours.js';

const WEEKDAYS = { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']], fri: [['09:00', '13:00']], sat: [], sun: [] };

describe('nextFreeSlot', () => {
  it('finds the first slot within opening hours, in the business timezone', () => {
    // Monday 2030-01-07 08:10 in New York (13:10 UTC): the first slot is 09:00 local.
    const slot = nextFreeSlot(WEEKDAYS, 'America/New_York', new Date('2030-01-07T13:10:00Z'));
    expect(slot).toEqual({ startsAt: new Date('2030-01-07T14:00:00Z'), endsAt: new Date('2030-01-07T14:30:00Z') });
  });

  it('skips closed days and taken slots', () => {
    // Friday 12:45 local: Friday closes at 13:00, so the next is Monday 09:00; that one is taken.
    const taken = [{ startsAt: new Date('2030-01-14T14:00:00Z'), endsAt: new Date('2030-01-14T14:30:00Z') }];
    const slot = nextFreeSlot(WEEKDAYS, 'America/New_York', new Date('2030-01-11T17:45:00Z'), taken);
    expect(slot?.startsAt).toEqual(new Date('2030-01-14T14:30:00Z'));
  });

  it('returns null when the business never opens, and ignores malformed hours', () => {
    expect(nextFreeSlot({ mon: [], tue: 'closed', wed: [['25:99']] }, 'UTC', new Date('2030-01-07T00:00:00Z'))).toBeNull();
  });
});
