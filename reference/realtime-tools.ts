import { z } from 'zod';
import type { JsonValue } from '../src/index.js';
import { readTool, writeTool, type RealtimeTool } from '../src/realtime/index.js';
import type { CallContext } from './call-context.js';
import { nextFreeSlot, type Slot } from './opening-hours.js';
import type { ReceptionistWrites } from './operations.js';
import type { SlotHolds } from './slot-holds.js';

const SLOT_MINUTES = 30;
const instant = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-12-03T09:00:00Z' });

export interface ReceptionistToolsOptions {
  /** Slots held by this process's live calls (two calls are never offered or given one slot). */
  holds: SlotHolds;
  /** The clock. */
  now: () => number;
}

/** Slots taken for this call's business: booked at call start, or held by a live call of this process. */
function taken(context: CallContext, holds: SlotHolds): Slot[] {
  return [...context.bookedSlots, ...holds.held(context.business.id)];
}

/** Up to `count` free slots from `after`, from the cached opening hours: pure, no I/O. */
function freeSlots(context: CallContext, holds: SlotHolds, after: Date, count: number): Slot[] {
  const settings = context.settings;
  if (!settings) return [];
  const slots: Slot[] = [];
  const busy = taken(context, holds);
  let from = after;
  while (slots.length < count) {
    const slot = nextFreeSlot(settings.openingHours, settings.timezone, from, busy, SLOT_MINUTES);
    if (!slot) break;
    slots.push(slot);
    busy.push(slot);
    from = slot.endsAt;
  }
  return slots;
}

/**
 * The receptionist's tools for the Realtime agent. `find_free_slots` reads
 * the frozen context and this process's holds; `book_appointment`,
 * `request_callback` and `save_caller_name` buffer the receptionist's
 * declared writes (landing at call end). None touches the database.
 */
export function receptionistTools({ holds, now }: ReceptionistToolsOptions): RealtimeTool<CallContext, ReceptionistWrites>[] {
  const earliest = () => new Date(now() + 60 * 60_000);
  return [
    readTool({
      name: 'find_free_slots',
      description: `Free ${SLOT_MINUTES}-minute appointment slots, earliest first. Call before offering a time.`,
      parameters: z.object({
        after: instant.optional().describe('Earliest start wanted (ISO-8601). Default: an hour from now.'),
        count: z.number().int().min(1).max(5).default(3).describe('How many slots (1-5).'),
      }),
      answer: ({ after, count }, { context }: { context: CallContext | null }): JsonValue => {
        if (!context?.settings) return { slots: [], note: 'opening hours unknown: offer a callback instead' };
        const from = after && new Date(after) > earliest() ? new Date(after) : earliest();
        const slots = freeSlots(context, holds, from, count);
        return { timezone: context.settings.timezone, slots: slots.map((slot) => ({ startsAt: slot.startsAt.toISOString(), endsAt: slot.endsAt.toISOString() })) };
      },
    }),
    writeTool({
      name: 'book_appointment',
      description: 'Books a slot that find_free_slots offered, once the caller has agreed to it.',
      parameters: z.object({
        startsAt: instant.describe('The slot start, as find_free_slots gave it.'),
        title: z.string().min(1).max(200).optional().describe('What the appointment is for.'),
      }),
      write: ({ startsAt, title }, { context, call }) => {
        if (!context?.settings) return { refuse: 'opening hours unknown: offer a callback instead' };
        const start = new Date(startsAt);
        const slot = nextFreeSlot(context.settings.openingHours, context.settings.timezone, start, taken(context, holds), SLOT_MINUTES);
        if (start < earliest() || !slot || slot.startsAt.getTime() !== start.getTime()) return { refuse: 'that slot is not free: call find_free_slots again' };
        if (!holds.hold(context.business.id, slot, call.callSid)) return { refuse: 'another caller just took that slot: call find_free_slots again' };
        const name = context.firstName ?? 'caller';
        return { operation: 'createAppointment', input: { startsAt: slot.startsAt.toISOString(), endsAt: slot.endsAt.toISOString(), title: title ?? `Appointment for ${name}` } };
      },
      answer: ({ startsAt }, { durable }) => ({
        booked: true,
        startsAt,
        durable,
        tell: "The appointment is booked; we'll text to confirm.",
      }),
    }),
    writeTool({
      name: 'request_callback',
      description: 'Records that the caller wants the business to call back.',
      parameters: z.object({ reason: z.string().max(500).optional().describe('Why, in a few words.') }),
      write: ({ reason }) => ({
        operation: 'updateSession',
        input: { state: { callbackRequested: true, callbackRequestedAt: new Date(now()).toISOString(), ...(reason ? { callbackReason: reason } : {}) } },
      }),
      answer: (_args, { durable }) => ({ noted: true, durable, tell: 'Someone will call back.' }),
    }),
    writeTool({
      name: 'save_caller_name',
      description: "Saves the caller's name once they have said it.",
      parameters: z.object({ name: z.string().trim().min(1).max(200).describe('The name as the caller said it.') }),
      write: ({ name }, { context }) =>
        context?.lead
          ? { operation: 'updateLead', input: { fields: { customerName: name } } }
          : { operation: 'updateSession', input: { state: { callerName: name } } },
      answer: ({ name }, { durable }) => ({ saved: true, name, durable }),
    }),
  ] as RealtimeTool<CallContext, ReceptionistWrites>[];
}
