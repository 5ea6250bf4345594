import { metrics, type Attributes as MetricAttributes, type Counter, type Histogram, type UpDownCounter } from '@opentelemetry/api';
import { Attributes, INSTRUMENTATION_NAME, Metrics } from '../guard/attributes.js';

/** Why a new call was turned away, as a metric label: bounded, whatever the reason's text. */
export type RefusalReason = 'capacity' | 'journal' | 'closed';

const PREFETCHED: MetricAttributes = Object.freeze({ [Attributes.CONTEXT_PREFETCHED]: true });
const LOADED_AT_START: MetricAttributes = Object.freeze({ [Attributes.CONTEXT_PREFETCHED]: false });

/**
 * The media-stream hub's instruments (names in `Metrics`, docs/metrics.md):
 * calls live, calls refused {door, reason}, problems {kind}, and what each
 * `start` waited for its context (ms) {call.context.prefetched}. No tenant
 * id, no call sid: every label is bounded.
 */
export class StreamMetrics {
  private readonly problems: Counter;
  private readonly refusals: Counter;
  private readonly live: UpDownCounter;
  private readonly contextLoad: Histogram;

  constructor() {
    const meter = metrics.getMeter(INSTRUMENTATION_NAME);
    this.problems = meter.createCounter(Metrics.STREAM_PROBLEMS, {
      description: 'Media-stream messages dropped, handlers failed, streams closed by the server',
    });
    this.refusals = meter.createCounter(Metrics.CALLS_REFUSED, {
      description: 'New calls turned away (busy TwiML, upgrade 503, start 1013), by door and reason (capacity, journal, closed)',
    });
    this.live = meter.createUpDownCounter(Metrics.CALLS_LIVE, { description: 'Calls live in this process (started, not ended)', unit: '{call}' });
    this.contextLoad = meter.createHistogram(Metrics.CONTEXT_LOAD_DURATION, {
      description: 'What a call\'s start waited for its context: the load and stream claim, or the claim alone when the webhook prefetched it',
      unit: 'ms',
      advice: { explicitBucketBoundaries: [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] },
    });
  }

  problem(kind: string): void {
    this.problems.add(1, { [Attributes.PROBLEM_KIND]: kind });
  }

  refused(door: string, reason: RefusalReason): void {
    this.refusals.add(1, { [Attributes.REFUSED_DOOR]: door, [Attributes.REFUSED_REASON]: reason });
  }

  callStarted(): void {
    this.live.add(1);
  }

  callEnded(): void {
    this.live.add(-1);
  }

  contextLoaded(ms: number, prefetched: boolean): void {
    this.contextLoad.record(ms, prefetched ? PREFETCHED : LOADED_AT_START);
  }
}
