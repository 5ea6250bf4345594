import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { DEFAULTS } from '../defaults.js';
import { CallContextLoadError, StreamReplayError } from '../errors.js';
import { Attributes, INSTRUMENTATION_NAME, SpanNames } from '../guard/attributes.js';
import { claimCtes, type StreamClaim } from './stream-claims.js';

const tracer = trace.getTracer(INSTRUMENTATION_NAME);

/**
 * Claims a stream alone — one statement, inside a `call.claim_stream` span —
 * for a call whose context was loaded before its stream started (at the
 * webhook, see ContextPrefetch). Like the claim inside loadContext, its
 * commit does not wait for a WAL flush: it costs a read.
 *
 * @throws {StreamReplayError} the key was claimed before (a replayed stream).
 * @throws {CallContextLoadError} the statement failed or took longer than `timeoutMs`.
 */
export async function claimStream(knex: Knex, claim: StreamClaim, options: { timeoutMs?: number; schema?: string } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.contextLoadTimeoutMs;
  const attributes = { [Attributes.CALL_SID]: claim.callSid, [Attributes.TENANT_ID]: claim.tenantId };
  await tracer.startActiveSpan(SpanNames.CLAIM_STREAM, { attributes }, async (span) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const query = knex.raw(`? select count(*)::int as "claimed" from "__lcg_claim"`, [claimCtes(knex, claim, options.schema)]).timeout(timeoutMs, { cancel: true });
      // A deadline that waits for nothing (knex's waits for its cancel, which needs a connection).
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CallContextLoadError(`claiming the stream of call ${claim.callSid} took longer than ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
      });
      let result: { rows: Array<{ claimed: number }> };
      try {
        result = (await Promise.race([query.then((value: unknown) => value), deadline])) as typeof result;
      } catch (error) {
        if (error instanceof CallContextLoadError) throw error;
        throw new CallContextLoadError(`claiming the stream of call ${claim.callSid} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      if (Number(result.rows[0]?.claimed) !== 1) throw new StreamReplayError(`stream of call ${claim.callSid} already started once: a replay`);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      clearTimeout(timer);
      span.end();
    }
  });
}
