// live-call-guard/twilio: Twilio Media Streams for an express-ws app — the
// media-stream middleware and its agent interface, signatures, single-use
// stream tokens, the Stream TwiML; a Twilio-side stream client for tests.
export { mediaStream } from './app/media-stream.js';
export type { MediaStreamHandler, MediaStreamOptions, MediaStreamStats } from './app/media-stream.js';
export { DEFAULT_LIMITS } from './app/media-stream-hub.js';
export type { MediaStreamEvents, MediaStreamLimits, ProblemKind } from './app/media-stream-hub.js';
export type { Agent, AgentCall, AgentSession } from './app/agent.js';
export { CloseCodes } from './app/close-codes.js';
export type { CloseReason } from './app/close-codes.js';
export { twilioUpgradeVerifier, isValidTwilioSignature, mediaStreamUrl } from './app/twilio-signature.js';
export type { UpgradeVerifierOptions } from './app/twilio-signature.js';
export { createStreamToken, verifyStreamToken } from './app/stream-token.js';
export type { StreamClaims, StreamTokenCheck } from './app/stream-token.js';
export { busyTwiml, streamTwiml } from './app/stream-twiml.js';
export type { StreamTwimlOptions } from './app/stream-twiml.js';
export { parseInboundMessage } from './app/twilio-messages.js';
export type { InboundMessage, OutboundMessage } from './app/twilio-messages.js';
export { encodeSample, decodeSample, rmsLevel, tones, FRAME_BYTES, SAMPLE_RATE } from './app/audio/mulaw.js';
export { TwilioStreamClient } from './sim/twilio-stream-client.js';
export type { StreamClientOptions, StreamStart } from './sim/twilio-stream-client.js';
export { parseStreamTwiml } from './sim/twiml.js';
export type { StreamInstruction } from './sim/twiml.js';
