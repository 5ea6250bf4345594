import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a stream token binds: the call and every stream parameter (its tenant among them). */
export interface StreamClaims {
  callSid: string;
  /** The `<Parameter>`s of the Stream, the token itself left out. */
  parameters: Readonly<Record<string, string>>;
}

/** A token checked: its nonce (the stream's claim key) and expiry (unix seconds: the claim's too), or why it is refused. */
export type StreamTokenCheck =
  | { readonly ok: true; readonly nonce: string; readonly expiresAt: number }
  | { readonly ok: false; readonly reason: string };

const VERSION = 'v2';
const NONCE = /^[A-Za-z0-9_-]{22}$/;

/** The parameters as sorted [name, value] pairs, the token left out. */
function canonical(parameters: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(parameters)
    .filter(([name]) => name !== 'token')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function signature(secret: string, claims: StreamClaims, expiresAt: number, nonce: string): Buffer {
  return createHmac('sha256', secret)
    .update(JSON.stringify([VERSION, claims.callSid, canonical(claims.parameters), expiresAt, nonce]))
    .digest();
}

/**
 * A token for `<Parameter name="token">`: an HMAC-SHA256 with
 * CALL_STREAM_SECRET over the call sid, every other parameter (sorted by
 * name), the expiry and a random nonce. The `start` message is not signed by Twilio: this binds the stream
 * to what our webhook decided, and the nonce makes it single-use (the
 * call-start statement claims it: a replay is refused).
 * Format `v2.<expiry unix seconds>.<nonce>.<base64url mac>`.
 */
export function createStreamToken(secret: string, claims: StreamClaims, ttlSeconds: number, now = Date.now()): string {
  const expiresAt = Math.floor(now / 1000) + ttlSeconds;
  const nonce = randomBytes(16).toString('base64url');
  return `${VERSION}.${expiresAt}.${nonce}.${signature(secret, claims, expiresAt, nonce).toString('base64url')}`;
}

/** Checks a token against the call's claims: its nonce when valid, else why it is refused. */
export function verifyStreamToken(secret: string, token: string | undefined, claims: StreamClaims, now = Date.now()): StreamTokenCheck {
  if (!token) return { ok: false, reason: 'missing stream token' };
  const [version, expiry, nonce, mac, extra] = token.split('.');
  if (version !== VERSION || !expiry || !nonce || !mac || extra !== undefined || !/^\d{1,12}$/.test(expiry) || !NONCE.test(nonce)) {
    return { ok: false, reason: 'malformed stream token' };
  }
  const expiresAt = Number(expiry);
  const expected = signature(secret, claims, expiresAt, nonce);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'stream token does not match this call and its parameters' };
  }
  if (expiresAt * 1000 < now) return { ok: false, reason: 'stream token expired' };
  return { ok: true, nonce, expiresAt };
}
