// live-call-guard/twilio: Twilio Media Streams for an express-ws app — the
// call layer (createCallLayer: one lifecycle object), the media-stream
// middleware and its agent interface, signatures, the Stream TwiML.
// Test helpers: live-call-guard/testing.
export { createCallLayer } from './call-layer.js';
export type { CallLayer, CallLayerOptions, CallLayerReadiness, CallLayerState, SignedWebhook, WebhookAnswer, WebhookRequest } from './call-layer.js';
export { mediaStream } from './media-stream.js';
export type { MediaStreamHandler, MediaStreamOptions, MediaStreamStats, PrefetchCall, PrefetchResult } from './media-stream.js';
export type { ContextPrefetchOptions, ContextPrefetchStats, PrefetchOutcome } from '../context/context-prefetch.js';
export type { MediaStreamEvents, MediaStreamLimits, ProblemKind } from './media-stream-hub.js';
export type { Agent, AgentCall, AgentSession } from './agent.js';
export type { CallWrites } from '../buffer/call-writes.js';
export { CloseCodes } from './close-codes.js';
export type { CloseReason } from './close-codes.js';
export { twilioUpgradeVerifier, isValidTwilioSignature } from './twilio-signature.js';
export type { UpgradeVerifierOptions } from './twilio-signature.js';
export { busyTwiml, streamTwiml } from './stream-twiml.js';
export type { StreamTwimlOptions } from './stream-twiml.js';
export type { InboundMessage, OutboundMessage } from './twilio-messages.js';
