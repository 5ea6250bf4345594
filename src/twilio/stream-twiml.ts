import twilio from 'twilio';
import { DEFAULTS } from '../defaults.js';
import { createStreamToken } from './stream-token.js';
import { mediaStreamUrl } from './twilio-signature.js';

export interface StreamTwimlOptions {
  /** PUBLIC_URL: the origin Twilio reaches; the Stream URL is its `wss://…/media`. */
  publicUrl: string;
  /** The media endpoint's path. Default `/media`. */
  path?: string;
  /** The call the webhook answers (the token is bound to it). */
  callSid: string;
  /** The Stream's `<Parameter>`s: the tenant, and whatever the context query reads (a lead id...). */
  parameters: Readonly<Record<string, string>>;
  /** CALL_STREAM_SECRET: adds a signed, single-use `token` parameter. */
  streamSecret?: string | undefined;
  /** How long the token is valid. Default 300 s. */
  tokenTtlSeconds?: number;
}

/** The TwiML that turns a call away with a busy signal (the server cannot take it now). */
export function busyTwiml(): string {
  const response = new twilio.twiml.VoiceResponse();
  response.reject({ reason: 'busy' });
  return response.toString();
}

/**
 * The TwiML a voice webhook answers to open a bidirectional Media Stream:
 * `<Connect><Stream url="wss://…/media">` with the parameters, and a signed
 * single-use token over all of them when a stream secret is given.
 */
export function streamTwiml(options: StreamTwimlOptions): string {
  const parameters: Record<string, string> = { ...options.parameters };
  if (options.streamSecret) {
    parameters.token = createStreamToken(
      options.streamSecret,
      { callSid: options.callSid, parameters: options.parameters },
      options.tokenTtlSeconds ?? DEFAULTS.streamTokenTtlSeconds,
    );
  }
  const response = new twilio.twiml.VoiceResponse();
  const stream = response.connect().stream({ url: mediaStreamUrl(options.publicUrl, options.path ?? '/media') });
  for (const [name, value] of Object.entries(parameters)) stream.parameter({ name, value });
  return response.toString();
}
