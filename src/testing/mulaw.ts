/** G.711 µ-law, 8 kHz mono: what Twilio Media Streams carry. */
import { SAMPLE_RATE } from '../twilio/audio-chunks.js';

export { FRAME_BYTES, SAMPLE_RATE } from '../twilio/audio-chunks.js';

const BIAS = 0x84;
const CLIP = 32635;

/** µ-law byte → 16-bit linear sample, precomputed. */
const DECODE_TABLE = new Int16Array(256);
for (let i = 0; i < 256; i += 1) {
  const byte = ~i & 0xff;
  const sign = byte & 0x80;
  const exponent = (byte >> 4) & 0x07;
  const mantissa = byte & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  DECODE_TABLE[i] = sign ? -magnitude : magnitude;
}

export function decodeSample(byte: number): number {
  return DECODE_TABLE[byte & 0xff]!;
}

export function encodeSample(sample: number): number {
  let value = Math.max(-CLIP, Math.min(CLIP, Math.round(sample)));
  const sign = value < 0 ? 0x80 : 0;
  if (sign) value = -value;
  value += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (value & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  const mantissa = (value >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Root-mean-square level of a µ-law buffer, 0 (silence) to ~32k. */
export function rmsLevel(mulaw: Uint8Array): number {
  if (mulaw.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < mulaw.length; i += 1) {
    const sample = DECODE_TABLE[mulaw[i]!]!;
    sum += sample * sample;
  }
  return Math.sqrt(sum / mulaw.length);
}

/** µ-law audio of tones played one after the other (a chime, a prompt). */
export function tones(parts: ReadonlyArray<{ hz: number; ms: number; level?: number }>): Buffer {
  const total = parts.reduce((n, part) => n + Math.round((part.ms * SAMPLE_RATE) / 1000), 0);
  const out = Buffer.alloc(total);
  let offset = 0;
  for (const { hz, ms, level = 8000 } of parts) {
    const samples = Math.round((ms * SAMPLE_RATE) / 1000);
    for (let i = 0; i < samples; i += 1) {
      const fade = Math.min(1, i / 80, (samples - i) / 80); // 10 ms ramps: no clicks
      out[offset + i] = encodeSample(hz === 0 ? 0 : level * fade * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE));
    }
    offset += samples;
  }
  return out;
}
