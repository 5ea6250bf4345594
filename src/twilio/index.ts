// live-call-guard/twilio: Twilio Media Streams for an express-ws app — the
// media-stream middleware and its agent interface, signatures, single-use
// stream tokens, the Stream TwiML. Test helpers: live-call-guard/testing.
export { mediaStream } from './media-stream.js';
export type { MediaStreamHandler, MediaStreamOptions, MediaStreamStats, PrefetchCall, PrefetchResult } from './media-stream.js';
export type { ContextPrefetchOptions, ContextPrefetchStats, PrefetchOutcome } from '../context/context-prefetch.js';
export { DEFAULT_LIMITS } from './media-stream-hub.js';
export type { MediaStreamEvents, MediaStreamLimits, ProblemKind } from './media-stream-hub.js';
export type { Agent, AgentCall, AgentSession } from './agent.js';
export { CloseCodes } from './close-codes.js';
export type { CloseReason } from './close-codes.js';
export { twilioUpgradeVerifier, isValidTwilioSignature, mediaStreamUrl } from './twilio-signature.js';
export type { UpgradeVerifierOptions } from './twilio-signature.js';
export { createStreamToken, verifyStreamToken } from './stream-token.js';
export type { StreamClaims, StreamTokenCheck } from './stream-token.js';
export { busyTwiml, streamTwiml } from './stream-twiml.js';
export type { StreamTwimlOptions } from './stream-twiml.js';
export { parseInboundMessage } from './twilio-messages.js';
export type { InboundMessage, OutboundMessage } from './twilio-messages.js';
