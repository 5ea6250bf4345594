import { metrics, type Attributes as MetricAttributes, type Counter } from '@opentelemetry/api';
import { Attributes, INSTRUMENTATION_NAME, Metrics } from '../guard/attributes.js';

export type JournalBackendName = 'local' | 'jetstream';

/** A journal's instruments: its failures, and how long one write takes from enqueue to durable. */
export interface JournalInstruments {
  readonly failures: Counter;
  /** One write became durable `ms` after its append began. Allocates nothing. */
  enqueued(ms: number): void;
}

/**
 * `live_call.buffer.journal_failures` and `live_call.journal.enqueue.duration`
 * (ms) {live_call.journal.backend}: the local journal records the append
 * (write(2), and fdatasync with fsync `write`) before enqueue returns; the
 * JetStream journal, publish to acknowledgement.
 */
export function createJournalInstruments(backend: JournalBackendName): JournalInstruments {
  const meter = metrics.getMeter(INSTRUMENTATION_NAME);
  const duration = meter.createHistogram(Metrics.JOURNAL_ENQUEUE_DURATION, {
    description: 'One buffered write, from enqueue to durable (local: the append; JetStream: its acknowledgement)',
    unit: 'ms',
    // A local append is tens of µs (an fdatasync, ms); a JetStream acknowledgement, ms.
    advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] },
  });
  const attributes: MetricAttributes = Object.freeze({ [Attributes.JOURNAL_BACKEND]: backend });
  return {
    failures: meter.createCounter(Metrics.JOURNAL_FAILURES, {
      description: 'Journal appends, file creations and syncs that failed (the writes stayed in memory)',
    }),
    enqueued: (ms) => duration.record(ms, attributes),
  };
}
