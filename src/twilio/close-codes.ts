/**
 * WebSocket close codes the media server sends (RFC 6455 §7.4.1), each with
 * what causes it:
 * - 1000 NORMAL: the call ended (stop).
 * - 1001 GOING_AWAY: the server is draining and the call outlived the drain timeout.
 * - 1003 UNSUPPORTED_DATA: a binary frame (Twilio sends text only).
 * - 1008 POLICY: a protocol violation that makes the call unsafe (second start,
 *   another streamSid, bad or missing stream token, a second stream for a live
 *   call, no start in time, invalid customParameters, unknown business, a flood).
 * - 1009 TOO_BIG: a frame over the size limit (sent by ws itself).
 * - 1011 INTERNAL_ERROR: the server failed on this call (a bug, logged with
 *   the call sid); the call's writes are flushed, other calls go on.
 * - 1013 TRY_AGAIN_LATER: the server cannot take a new call now (the write
 *   journal cannot keep writes).
 */
export const CloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  POLICY: 1008,
  TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
} as const;

/** A close reason cut to the WebSocket limit of 123 bytes, never inside a character. */
export function closeReasonText(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= 123) return reason;
  let end = 123;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

export interface CloseReason {
  code: (typeof CloseCodes)[keyof typeof CloseCodes];
  /** At most 123 bytes (the WebSocket limit). */
  reason: string;
}
