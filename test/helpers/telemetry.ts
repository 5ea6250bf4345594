import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { AggregationTemporality, MetricReader } from '@opentelemetry/sdk-metrics';
import { AlwaysOnSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace';
import type { LiveCallGuardProcessor } from '../../src/guard/live-call-guard-processor.js';
import type { Telemetry } from '../../src/sdk/node-sdk.js';

/** A sampler whose decisions tests can switch (always on, always off, a ratio...). */
export class SwitchableSampler implements Sampler {
  current: Sampler = new AlwaysOnSampler();

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    return this.current.shouldSample(ctx, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `Switchable{${this.current.toString()}}`;
  }
}

/** A metric reader tests collect from on demand. */
export class TestMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }

  /** The attribute keys of every data point of metric `name`. */
  async attributeKeysOf(name: string): Promise<string[]> {
    const { resourceMetrics } = await this.collect();
    const keys = new Set<string>();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name === name) for (const point of metric.dataPoints) for (const key of Object.keys(point.attributes)) keys.add(key);
      }
    }
    return [...keys].sort();
  }

  /** The current value of a counter, summed over data points matching `attributes`. */
  async counterValue(name: string, attributes: Record<string, string> = {}): Promise<number> {
    return this.sumOf(name, attributes, (value) => value as number);
  }

  /** How many values a histogram recorded, over data points matching `attributes`. */
  async histogramCount(name: string, attributes: Record<string, string> = {}): Promise<number> {
    return this.sumOf(name, attributes, (value) => (value as { count: number }).count);
  }

  private async sumOf(name: string, attributes: Record<string, string>, valueOf: (value: unknown) => number): Promise<number> {
    const { resourceMetrics } = await this.collect();
    let total = 0;
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== name) continue;
        for (const point of metric.dataPoints) {
          const matches = Object.entries(attributes).every(([key, value]) => point.attributes[key] === value);
          if (matches) total += valueOf(point.value);
        }
      }
    }
    return total;
  }

  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface TestTelemetry {
  guard: LiveCallGuardProcessor;
  sampler: SwitchableSampler;
  metrics: TestMetricReader;
  telemetry: Telemetry;
}

export const TEST_TELEMETRY = Symbol.for('live-call-guard.test-telemetry');

/** The SDK parts the test setup started in this worker. */
export function testTelemetry(): TestTelemetry {
  const found = (globalThis as { [TEST_TELEMETRY]?: TestTelemetry })[TEST_TELEMETRY];
  if (!found) throw new Error('test telemetry is not started (test/setup/telemetry.ts)');
  return found;
}
