import type { IncomingMessage } from 'node:http';
import twilio from 'twilio';
import { ConfigError } from '../errors.js';

/**
 * Whether `signature` (the `X-Twilio-Signature` header) is Twilio's for
 * `url` and the POST `params`, using the twilio package's validateRequest
 * (HMAC-SHA1 with the auth token over the URL and the sorted parameters).
 */
export function isValidTwilioSignature(
  authToken: string,
  signature: string | string[] | undefined,
  url: string,
  params: Record<string, string> = {},
): boolean {
  if (typeof signature !== 'string' || signature === '') return false;
  return twilio.validateRequest(authToken, signature, url, params);
}

/** The `wss://` URL of the media endpoint, from the public origin (`PUBLIC_URL`), no query string. */
export function mediaStreamUrl(publicUrl: string, path: string): string {
  const url = new URL(path, publicUrl);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  url.search = '';
  return url.toString();
}

export interface UpgradeVerifierOptions {
  /** TWILIO_AUTH_TOKEN; unset: upgrades are not signature-checked. With it, `publicUrl` is required (else the constructor throws). */
  authToken?: string | undefined;
  /** PUBLIC_URL: the origin Twilio connects to (a proxy changes scheme and host). */
  publicUrl?: string | undefined;
  /** The media endpoint's path. Default `/media`. */
  path?: string;
  /** While true (draining), upgrades are refused with 503. */
  isDraining?: () => boolean;
  /** While it returns a reason (e.g. the journal cannot keep writes), upgrades are refused with 503. */
  refusal?: () => string | undefined;
}

type VerifyCallback = (result: boolean, code?: number, message?: string) => void;

/**
 * A ws `verifyClient`: refuses an upgrade before it happens — 403 for a
 * missing or wrong `X-Twilio-Signature` (signed over the exact `wss://` URL
 * of the TwiML, no query string), 503 while draining. No session, no query.
 */
export function twilioUpgradeVerifier(options: UpgradeVerifierOptions) {
  if (options.authToken && !options.publicUrl) {
    // Fail closed: without the URL Twilio signed, no upgrade could be checked.
    throw new ConfigError('twilioUpgradeVerifier: authToken needs publicUrl (the https:// origin Twilio reaches) to check signatures');
  }
  const path = options.path ?? '/media';
  const signedUrl = options.authToken && options.publicUrl ? mediaStreamUrl(options.publicUrl, path) : undefined;
  return (info: { req: IncomingMessage }, callback: VerifyCallback): void => {
    if (options.isDraining?.() || options.refusal?.() !== undefined) {
      callback(false, 503, 'Service Unavailable');
      return;
    }
    if (options.authToken && signedUrl) {
      if (!isValidTwilioSignature(options.authToken, info.req.headers['x-twilio-signature'], signedUrl)) {
        callback(false, 403, 'Forbidden');
        return;
      }
    }
    callback(true);
  };
}
