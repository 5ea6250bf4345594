import { SAMPLE_RATE } from '../twilio/audio-chunks.js';

interface PendingMark {
  readonly name: string;
  readonly itemId: string;
  /** The item's audio sent up to this mark, in ms. */
  readonly endMs: number;
  /** Audio between the previous mark and this one, in ms. */
  readonly ms: number;
}

/** Where the caller's playback of the model's audio stands, for a truncate at barge-in. */
export interface Interruption {
  readonly itemId: string;
  /** Audio of the item the caller heard (its marks came back), in ms. */
  readonly playedMs: number;
  /** Audio of the item sent to Twilio, in ms. */
  readonly sentMs: number;
}

const BYTES_PER_MS = SAMPLE_RATE / 1000;

/**
 * What the caller has heard of the model's audio, from Twilio marks: each
 * chunk sent is followed by a mark; Twilio answers a mark once the audio
 * before it has played, so the last mark back is the position heard.
 * Marks come back in order. Bounded: past `maxPendingMarks` the oldest are
 * forgotten (the position heard is then known less finely, never ahead).
 */
export class Playback {
  private readonly pending: PendingMark[] = [];
  private head = 0;
  private markCounter = 0;
  private itemId: string | null = null;
  private sentMs = 0;
  private playedMs = 0;
  /** Audio sent and not yet played, all items, in ms. */
  private unplayedMs = 0;
  private readonly cut = new Set<string>();

  constructor(
    private readonly prefix: string,
    private readonly maxPendingMarks: number,
  ) {}

  /** Records `bytes` of µ-law sent for `itemId`; returns the mark to send after them. */
  sent(itemId: string, bytes: number): string {
    if (itemId !== this.itemId) {
      this.itemId = itemId;
      this.sentMs = 0;
      this.playedMs = 0;
    }
    const ms = bytes / BYTES_PER_MS;
    this.sentMs += ms;
    this.unplayedMs += ms;
    const name = `${this.prefix}${++this.markCounter}`;
    if (this.pending.length - this.head >= this.maxPendingMarks) this.unplayedMs -= this.pending[this.head++]!.ms;
    this.pending.push({ name, itemId, endMs: this.sentMs, ms });
    return name;
  }

  /** A mark came back: the audio before it has played. False for a mark that is not ours (or forgotten). */
  played(name: string): boolean {
    if (!name.startsWith(this.prefix)) return false;
    for (let i = this.head; i < this.pending.length; i += 1) {
      if (this.pending[i]!.name !== name) continue;
      const mark = this.pending[i]!;
      for (let j = this.head; j <= i; j += 1) this.unplayedMs -= this.pending[j]!.ms;
      this.unplayedMs = Math.max(0, this.unplayedMs);
      this.head = i + 1;
      if (mark.itemId === this.itemId) this.playedMs = mark.endMs;
      this.compact();
      return true;
    }
    return false;
  }

  /** Audio sent to Twilio and not yet heard, in ms. */
  get unplayed(): number {
    return this.unplayedMs;
  }

  /** Whether an item was cut at barge-in (its late deltas are dropped). */
  isCut(itemId: string): boolean {
    return this.cut.has(itemId);
  }

  /**
   * The caller started speaking: the item being played and the position
   * heard, or null when everything sent has played. Forgets the pending
   * marks (Twilio sends them back at `clear`: they do not mean "played").
   */
  interrupt(): Interruption | null {
    const itemId = this.itemId;
    const unheard = itemId !== null && this.sentMs - this.playedMs > 0 && this.unplayedMs > 0;
    const result = unheard ? { itemId, playedMs: Math.floor(this.playedMs), sentMs: Math.floor(this.sentMs) } : null;
    if (itemId !== null && unheard) this.cut.add(itemId);
    if (this.cut.size > 64) this.cut.delete(this.cut.values().next().value!);
    this.pending.length = 0;
    this.head = 0;
    this.unplayedMs = 0;
    return result;
  }

  private compact(): void {
    if (this.head > 256 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
  }
}
