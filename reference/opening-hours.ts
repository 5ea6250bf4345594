import type { JsonValue } from './call-context.js';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const formatters = new Map<string, Intl.DateTimeFormat>();

function localTime(date: Date, timezone: string): { day: string; minutes: number } {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timezone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
  return { day: String(parts.weekday).slice(0, 3).toLowerCase(), minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

function toMinutes(hhmm: unknown): number | undefined {
  if (typeof hhmm !== 'string') return undefined;
  const match = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** The opening intervals of a weekday, in minutes of the day, from `{ mon: [["09:00","17:00"]], ... }`. */
function intervals(openingHours: { readonly [day: string]: JsonValue }, day: string): Array<[number, number]> {
  const value = openingHours[day];
  if (!Array.isArray(value)) return [];
  return value.flatMap((pair) => {
    if (!Array.isArray(pair)) return [];
    const start = toMinutes(pair[0]);
    const end = toMinutes(pair[1]);
    return start !== undefined && end !== undefined && end > start ? [[start, end] as [number, number]] : [];
  });
}

export interface Slot {
  startsAt: Date;
  endsAt: Date;
}

/**
 * The first slot of `slotMinutes` at or after `after`, within the opening
 * hours in the business's timezone, not overlapping `taken`; searches two
 * weeks ahead. Pure: it reads the cached context, never the database.
 */
export function nextFreeSlot(
  openingHours: { readonly [day: string]: JsonValue },
  timezone: string,
  after: Date,
  taken: readonly Slot[] = [],
  slotMinutes = 30,
): Slot | null {
  if (!WEEKDAYS.some((day) => intervals(openingHours, day).length > 0)) return null;
  const step = slotMinutes * 60_000;
  let start = Math.ceil(after.getTime() / step) * step;
  const limit = start + 14 * 24 * 60 * 60_000;
  for (; start < limit; start += step) {
    const { day, minutes } = localTime(new Date(start), timezone);
    const fits = intervals(openingHours, day).some(([open, close]) => minutes >= open && minutes + slotMinutes <= close);
    if (!fits) continue;
    const end = start + step;
    if (taken.some((slot) => slot.startsAt.getTime() < end && slot.endsAt.getTime() > start)) continue;
    return { startsAt: new Date(start), endsAt: new Date(end) };
  }
  return null;
}
