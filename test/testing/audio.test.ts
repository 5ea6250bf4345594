import { describe, expect, it } from 'vitest';
import { decodeSample, encodeSample, FRAME_BYTES, rmsLevel, tones } from '../../src/testing/mulaw.js';
import { audioChunks } from '../../src/twilio/audio-chunks.js';
import { VoiceActivityDetector } from '../../reference/voice-activity.js';

describe('µ-law', () => {
  it('round-trips samples within the codec step', () => {
    for (const sample of [0, 1, -1, 100, -100, 1000, -5000, 12345, -32000]) {
      const decoded = decodeSample(encodeSample(sample));
      expect(Math.abs(decoded - sample)).toBeLessThanOrEqual(Math.max(8, Math.abs(sample) / 16));
    }
  });

  it('splits audio into whole 20 ms frames, at most a second per chunk, padded with silence', () => {
    const audio = tones([{ hz: 440, ms: 1500 }]); // 12 000 bytes
    const chunks = audioChunks(audio.subarray(0, 12_000 - 10));
    expect(chunks.map((c) => c.length)).toEqual([8000, 4000]);
    expect(chunks.every((c) => c.length % FRAME_BYTES === 0)).toBe(true);
    expect(chunks[1]!.at(-1)).toBe(0xff);
  });

  it('measures silence as quiet and a tone as loud', () => {
    expect(rmsLevel(Buffer.alloc(160, 0xff))).toBeLessThan(10);
    expect(rmsLevel(tones([{ hz: 440, ms: 20, level: 8000 }]))).toBeGreaterThan(3000);
  });
});

describe('VoiceActivityDetector', () => {
  it('says speech starts after three loud frames in a row, once', () => {
    const vad = new VoiceActivityDetector();
    const loud = tones([{ hz: 300, ms: 20, level: 6000 }]);
    const quiet = Buffer.alloc(160, 0xff);
    expect([vad.push(loud), vad.push(quiet), vad.push(loud), vad.push(loud), vad.push(loud), vad.push(loud)]).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
    ]);
  });
});
