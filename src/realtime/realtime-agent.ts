import type { TenantId } from '../buffer/journal-format.js';
import type { WriteOperations } from '../buffer/write-operation.js';
import type { Agent, AgentCall, AgentSession } from '../twilio/agent.js';
import { RealtimeBridge } from './realtime-bridge.js';
import { resolveRealtimeOptions, type RealtimeAgentOptions } from './realtime-options.js';
import { addStats, emptyStats, type RealtimeCallStats } from './realtime-stats.js';

/** An `Agent` for `mediaStream` that bridges each call to the OpenAI Realtime API; `stats()` sums its calls. */
export interface RealtimeAgent<TContext = unknown, TOps extends WriteOperations = WriteOperations, TTenant extends TenantId = TenantId>
  extends Agent<TContext, TOps, TTenant> {
  /** The counts of every call this agent bridged (see RealtimeCallStats), and how many calls. */
  stats(): RealtimeCallStats & { calls: number };
}

/**
 * A voice agent on the OpenAI Realtime API (GA protocol): per call, one
 * model socket; µ-law both ways with no transcoding; server VAD; tools
 * answered from the frozen context or buffered as the app's writes; the
 * conversation recorded as the app's writes; barge-in truncated at the
 * position the caller heard. The model socket is not a database: nothing it
 * does is a guard violation, and it closes with the call.
 * @throws {ConfigError} naming the option, at construction.
 */
export function realtimeAgent<TContext = unknown, TOps extends WriteOperations = WriteOperations, TTenant extends TenantId = TenantId>(
  options: RealtimeAgentOptions<TContext, TOps, TTenant>,
): RealtimeAgent<TContext, TOps, TTenant> {
  const resolved = resolveRealtimeOptions(options);
  const total = emptyStats();
  let calls = 0;
  return {
    startCall(call: AgentCall<TContext, TOps, TTenant>): AgentSession {
      calls += 1;
      return new RealtimeBridge(resolved, call, (stats) => addStats(total, stats)).session();
    },
    stats: () => ({ ...total, calls }),
  };
}
