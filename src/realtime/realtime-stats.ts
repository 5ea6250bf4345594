/** What the bridge counts, per call (logged at its end, on its live span) and summed per agent. */
export interface RealtimeCallStats {
  /** The model socket could not be opened (refused, unreachable, timed out). */
  modelRefused: number;
  /** The model socket closed or failed while the call was live. */
  modelLost: number;
  /** `error` events from the model. */
  modelErrors: number;
  /** Responses the model ended as `failed`. */
  failedResponses: number;
  /** Rate limits hit: an HTTP 429 at connect, a rate-limit error, a limit at 0. */
  rateLimited: number;
  /** Frames from the model that were not JSON or lacked the fields read. */
  malformedEvents: number;
  /** Well-formed events of a type the bridge does not know. */
  unknownEvents: number;
  /** Caller frames not sent to the model (its socket opening for too long, or backed up). */
  droppedToModel: number;
  /** Model audio not sent to the caller (too much unplayed audio queued at Twilio). */
  droppedToCaller: number;
  toolCalls: number;
  /** Tool calls answered with an error output (unknown tool, bad arguments, a refused write). */
  toolErrors: number;
  /** Barge-ins that cut the model's audio. */
  bargeIns: number;
  /** Fallbacks played to the caller. */
  fallbacks: number;
  /** Transcript entries that could not be buffered (the call's buffer full or closed). */
  transcriptDropped: number;
  /** Failures of the bridge's handlers or the app's hooks (instructions, greeting, onModelFailure, onStop): logged, the call goes on. */
  handlerErrors: number;
}

export function emptyStats(): RealtimeCallStats {
  return {
    modelRefused: 0,
    modelLost: 0,
    modelErrors: 0,
    failedResponses: 0,
    rateLimited: 0,
    malformedEvents: 0,
    unknownEvents: 0,
    droppedToModel: 0,
    droppedToCaller: 0,
    toolCalls: 0,
    toolErrors: 0,
    bargeIns: 0,
    fallbacks: 0,
    transcriptDropped: 0,
    handlerErrors: 0,
  };
}

/** Adds a call's counts to the agent's. */
export function addStats(total: RealtimeCallStats, call: RealtimeCallStats): void {
  for (const key of Object.keys(call) as Array<keyof RealtimeCallStats>) total[key] += call[key];
}
