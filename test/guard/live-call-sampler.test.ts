import { context, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { AlwaysOffSampler, SamplingDecision } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { LiveCallSampler, samplerFromEnv } from '../../src/guard/live-call-sampler.js';
import { startLiveCall } from '../../src/guard/live-call.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

describe('LiveCallSampler', () => {
  const sampler = new LiveCallSampler(new AlwaysOffSampler());

  it('records (without sampling) a database span under a live call the inner sampler drops', () => {
    const live = startLiveCall({ callSid: 'CA1', tenantId: 1 }, ROOT_CONTEXT);
    const result = sampler.shouldSample(live.context, TRACE_ID, 'pg.query', SpanKind.CLIENT, { 'db.system.name': 'postgresql' }, []);
    expect(result.decision).toBe(SamplingDecision.RECORD);
  });

  it('leaves other spans, and database spans outside calls, to the inner sampler', () => {
    const live = startLiveCall({ callSid: 'CA1', tenantId: 1 }, ROOT_CONTEXT);
    expect(sampler.shouldSample(live.context, TRACE_ID, 'render', SpanKind.INTERNAL, {}, []).decision).toBe(
      SamplingDecision.NOT_RECORD,
    );
    expect(
      sampler.shouldSample(context.active(), TRACE_ID, 'pg.query', SpanKind.CLIENT, { 'db.system': 'postgresql' }, []).decision,
    ).toBe(SamplingDecision.NOT_RECORD);
  });
});

describe('samplerFromEnv', () => {
  it.each([
    [{}, 'ParentBased'],
    [{ OTEL_TRACES_SAMPLER: 'always_off' }, 'AlwaysOffSampler'],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' }, 'TraceIdRatioBased{0.01}'],
  ])('builds %o', (env, expected) => {
    expect(samplerFromEnv(env).toString()).toContain(expected);
  });

  it('rejects unknown samplers and ratios out of range, naming the variable', () => {
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER must be one of .* \(received "sometimes"\)/);
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(
      'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (received "2")',
    );
  });
});
