import type { Slot } from './opening-hours.js';

export interface SlotHoldsOptions {
  /**
   * How long a hold lasts: until every call live when its booking was made
   * has surely ended (later calls see the booking in their start-of-call
   * statement). Default 4 h, Twilio's longest call.
   */
  ttlMs?: number;
  /** Most holds kept per business; past it the oldest go first. Default 10 000. */
  maxPerBusiness?: number;
  /** The clock (tests). Default `Date.now`. */
  now?: () => number;
}

interface Hold extends Slot {
  readonly callSid: string;
  readonly expiresAt: number;
}

/**
 * The slots this process's live calls have booked, per business, so that
 * two calls on one process are never offered the same slot — with no
 * database access (a live call must not query). Owned by the reference app,
 * not the layer: what a slot is and how long a hold lasts are the app's
 * business; the layer's part is the database arbiter across processes (the
 * conflict policy at flush). Synchronous, so on one event loop two calls
 * cannot both take a slot.
 */
export class SlotHolds {
  private readonly ttlMs: number;
  private readonly maxPerBusiness: number;
  private readonly now: () => number;
  private readonly byBusiness = new Map<string, Hold[]>();

  constructor(options: SlotHoldsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 4 * 60 * 60_000;
    this.maxPerBusiness = options.maxPerBusiness ?? 10_000;
    this.now = options.now ?? Date.now;
    if (!(this.ttlMs > 0) || !Number.isInteger(this.maxPerBusiness) || this.maxPerBusiness <= 0) {
      throw new RangeError(`SlotHolds: ttlMs and maxPerBusiness must be positive (received ${this.ttlMs}, ${this.maxPerBusiness})`);
    }
  }

  /** The slots held for a business now (expired holds dropped). */
  held(businessId: string | number): Slot[] {
    return this.live(String(businessId)).map(({ startsAt, endsAt }) => ({ startsAt, endsAt }));
  }

  /** Holds a slot for a call; false when it overlaps a slot another call holds. */
  hold(businessId: string | number, slot: Slot, callSid: string): boolean {
    const key = String(businessId);
    const holds = this.live(key);
    const overlaps = holds.some((held) => held.callSid !== callSid && held.startsAt < slot.endsAt && held.endsAt > slot.startsAt);
    if (overlaps) return false;
    holds.push({ ...slot, callSid, expiresAt: this.now() + this.ttlMs });
    if (holds.length > this.maxPerBusiness) holds.splice(0, holds.length - this.maxPerBusiness);
    this.byBusiness.set(key, holds);
    return true;
  }

  private live(key: string): Hold[] {
    const now = this.now();
    const holds = (this.byBusiness.get(key) ?? []).filter((held) => held.expiresAt > now);
    if (holds.length === 0) this.byBusiness.delete(key);
    else this.byBusiness.set(key, holds);
    return holds;
  }
}
