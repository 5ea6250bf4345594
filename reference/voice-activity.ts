import { rmsLevel } from '../src/testing/index.js';

export interface VoiceActivityOptions {
  /** RMS level above which a frame counts as speech. Default 1000 (quiet speech on a phone line is ~1500+). */
  threshold?: number;
  /** Consecutive speech frames that make "the caller is talking". Default 3 (60 ms). */
  minFrames?: number;
}

/**
 * An energy voice-activity detector over 20 ms µ-law frames: cheap enough for
 * every frame (one table lookup and a multiply per sample).
 */
export class VoiceActivityDetector {
  private readonly threshold: number;
  private readonly minFrames: number;
  private run = 0;

  constructor(options: VoiceActivityOptions = {}) {
    this.threshold = options.threshold ?? 1000;
    this.minFrames = options.minFrames ?? 3;
  }

  /** Feeds one frame; true on the frame where speech starts. */
  push(frame: Uint8Array): boolean {
    if (rmsLevel(frame) < this.threshold) {
      this.run = 0;
      return false;
    }
    this.run += 1;
    return this.run === this.minFrames;
  }

  reset(): void {
    this.run = 0;
  }
}
