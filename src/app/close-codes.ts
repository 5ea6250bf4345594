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
 */
export const CloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  POLICY: 1008,
  TOO_BIG: 1009,
} as const;

export interface CloseReason {
  code: (typeof CloseCodes)[keyof typeof CloseCodes];
  /** At most 123 bytes (the WebSocket limit). */
  reason: string;
}
