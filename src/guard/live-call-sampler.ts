import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import { ConfigError } from '../errors.js';
import { getCallScope } from './call-scope.js';
import { ioKindOfAttributes } from './io-span.js';

/**
 * Wraps the configured sampler so that an I/O span (database, HTTP, Redis,
 * messaging, RPC: the shared predicate) under a live call (or
 * a call whose statements are counted) is at least RECORDed: span processors see it, the
 * guard can report or block it, and the exporters still export only what the
 * configured sampler chose.
 */
export class LiveCallSampler implements Sampler {
  constructor(private readonly inner: Sampler) {}

  shouldSample(
    ctx: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    const result = this.inner.shouldSample(ctx, traceId, spanName, spanKind, attributes, links);
    if (result.decision !== SamplingDecision.NOT_RECORD) return result;
    const scope = getCallScope(ctx);
    if (!scope?.live && !scope?.report) return result;
    if (ioKindOfAttributes(attributes, spanKind) === undefined) return result;
    return { ...result, decision: SamplingDecision.RECORD };
  }

  toString(): string {
    return `LiveCallSampler{${this.inner.toString()}}`;
  }
}

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/**
 * The sampler the standard variables ask for (`OTEL_TRACES_SAMPLER`,
 * `OTEL_TRACES_SAMPLER_ARG`); default parentbased_always_on. Invalid values
 * are a ConfigError naming the variable.
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const name = env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on';
  const ratio = (): number => {
    const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
    if (!raw) return 1;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw new ConfigError(
        `Invalid configuration: OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (received ${JSON.stringify(raw)})`,
      );
    }
    return value;
  };
  switch (name as (typeof SAMPLERS)[number]) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      throw new ConfigError(
        `Invalid configuration: OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')} (received ${JSON.stringify(name)})`,
      );
  }
}
