import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a stream token binds: the call, its business, its lead. */
export interface StreamClaims {
  callSid: string;
  businessId: string;
  leadId?: string | undefined;
}

const VERSION = 'v1';

function signature(secret: string, claims: StreamClaims, expiresAt: number): Buffer {
  return createHmac('sha256', secret)
    .update([VERSION, claims.callSid, claims.businessId, claims.leadId ?? '', String(expiresAt)].join('\n'))
    .digest();
}

/**
 * A token for `<Parameter name="token">`: an HMAC-SHA256 with
 * CALL_STREAM_SECRET over call sid, business, lead and expiry. The `start`
 * message is not signed by Twilio: this binds the stream to what our webhook
 * decided. Format `v1.<expiry unix seconds>.<base64url mac>`.
 */
export function createStreamToken(secret: string, claims: StreamClaims, ttlSeconds: number, now = Date.now()): string {
  const expiresAt = Math.floor(now / 1000) + ttlSeconds;
  return `${VERSION}.${expiresAt}.${signature(secret, claims, expiresAt).toString('base64url')}`;
}

/** Why a token is refused, or undefined when it is valid for these claims. */
export function verifyStreamToken(secret: string, token: string | undefined, claims: StreamClaims, now = Date.now()): string | undefined {
  if (!token) return 'missing stream token';
  const [version, expiry, mac] = token.split('.');
  if (version !== VERSION || !expiry || !mac || !/^\d+$/.test(expiry)) return 'malformed stream token';
  const expiresAt = Number(expiry);
  const expected = signature(secret, claims, expiresAt);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'stream token does not match this call and business';
  if (expiresAt * 1000 < now) return 'stream token expired';
  return undefined;
}
