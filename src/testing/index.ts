// live-call-guard/testing: what an app's tests need to drive and judge a
// call — a Twilio-side stream client, the Stream TwiML parser, µ-law tones,
// and the guard's rule over spans held in memory. Not for production paths.
export { TwilioStreamClient } from './twilio-stream-client.js';
export type { StreamClientOptions, StreamStart } from './twilio-stream-client.js';
export { parseStreamTwiml } from './twiml.js';
export type { StreamInstruction } from './twiml.js';
export { encodeSample, decodeSample, rmsLevel, tones, FRAME_BYTES, SAMPLE_RATE } from '../testing/mulaw.js';
export { expectNoLiveCallDbAccess, findLiveCallDbAccess } from './expect-no-live-call-db-access.js';
