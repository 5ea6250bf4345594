/** G.711 µ-law, 8 kHz mono: what Twilio Media Streams carry. */
export const SAMPLE_RATE = 8000;
/** 20 ms of audio: one media frame. */
export const FRAME_BYTES = 160;

/** One second of audio: the largest outbound media message we send. */
export const MAX_CHUNK_BYTES = SAMPLE_RATE;

/** Splits µ-law audio into whole 20 ms frames of up to a second each (the end padded with silence). */
export function audioChunks(mulaw: Buffer): Buffer[] {
  const padded = Buffer.alloc(Math.ceil(mulaw.length / FRAME_BYTES) * FRAME_BYTES, 0xff); // 0xff is µ-law silence
  mulaw.copy(padded);
  const out: Buffer[] = [];
  for (let offset = 0; offset < padded.length; offset += MAX_CHUNK_BYTES) out.push(padded.subarray(offset, offset + MAX_CHUNK_BYTES));
  return out;
}
