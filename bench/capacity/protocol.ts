// The messages between the capacity orchestrator and its load generator
// (bench/capacity/client.ts, a child process with an IPC channel).

/** Orchestrator → client: run one level against a server. */
export interface LevelRequest {
  type: 'level';
  /** The server's origin, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Concurrent calls. */
  calls: number;
  /** Calls start spread over this many ms. */
  rampMs: number;
  /** After the last call started: how long calls may take to be greeted. */
  greetTimeoutMs: number;
  /** Quiet time between "every call greeted" and the steady window. */
  settleMs: number;
  /** The steady window: one DTMF per call, spread over its first 80%. */
  steadyMs: number;
  /** After the steady window: how long unanswered DTMFs may still be answered. */
  answerGraceMs: number;
  /** After `stop`: how long the server may take to close each call. */
  closeTimeoutMs: number;
  /** Distinguishes the call sids of this level from every other, and this level's messages from another's running at the same time. */
  runId: string;
}

/** Client → orchestrator, at the edges of the steady window (sample the server now). */
export interface SteadyEdge {
  type: 'steady-start' | 'steady-end';
  /** The level's runId. */
  runId: string;
}

export interface LevelReport {
  type: 'result';
  /** The level's runId. */
  runId: string;
  calls: number;
  /** Calls that failed: never greeted, DTMF never answered, closed abnormally, webhook or upgrade failed. */
  failed: number;
  /** Why, by reason, with counts. */
  failures: Record<string, number>;
  /** DTMF → answering mark, over the answered DTMFs (ms). */
  answerMs: { count: number; p50: number; p99: number; max: number };
  /** The client's own CPU over the steady window (cores). */
  clientCores: number;
  /** How late the 20 ms ticker fired over the steady window (ms): the client keeping up. */
  tickLateMs: { p99: number; max: number };
  /** Media frames sent over the steady window. */
  framesSent: number;
  /** 20 ms ticks missed over the steady window (the client or the machine could not keep up): skipped, not made up. */
  ticksSkipped: number;
  /** Steady window, as measured by the client (ms). */
  steadyMs: number;
  /** Close codes after `stop`, with counts. */
  closeCodes: Record<string, number>;
}

export type ClientMessage = SteadyEdge | LevelReport | { type: 'ready' } | { type: 'error'; runId: string; message: string };
