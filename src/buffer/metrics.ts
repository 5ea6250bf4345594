import { metrics, type Attributes as MetricAttributes, type BatchObservableCallback, type Counter, type Histogram, type MeterProvider } from '@opentelemetry/api';
import { Attributes, INSTRUMENTATION_NAME, Metrics } from '../guard/attributes.js';

/** What the flusher's gauges read at each collection. */
export interface FlusherGaugeValues {
  readonly pending: number;
  readonly deadLettered: number;
  readonly openCalls: number;
}

export interface FlusherInstruments {
  readonly retries: Counter;
  readonly flushed: Counter;
  readonly deadLettered: Counter;
  readonly conflicts: Counter;
  /** One flush attempt took `ms`; `statements` when it landed (undefined: it failed). */
  flushAttempt(ms: number, statements: number | undefined): void;
  /** A call's buffer is handed to the flusher with `writes` in it. */
  callWrites(writes: number): void;
  /** Stops reporting the gauges. */
  unregister(): void;
}

const LANDED: MetricAttributes = Object.freeze({ [Attributes.FLUSH_OUTCOME]: 'landed' });
const FAILED: MetricAttributes = Object.freeze({ [Attributes.FLUSH_OUTCOME]: 'failed' });

/**
 * The buffer's metrics, on meter `live-call-guard` (names in `Metrics`, docs/metrics.md):
 * - gauges: calls whose writes wait to land (flushing, retrying, recovering),
 *   dead-letter files in the journal, journaled calls still live in this process;
 * - counters: flush retries, calls landed, calls dead-lettered, conflicts;
 * - histograms: flush attempt duration (ms) {call.flush.outcome}, statements
 *   of a flush that landed, writes per call.
 */
export function createFlusherInstruments(
  read: () => FlusherGaugeValues,
  meterProvider: MeterProvider = metrics.getMeterProvider(),
): FlusherInstruments {
  const meter = meterProvider.getMeter(INSTRUMENTATION_NAME);
  const pending = meter.createObservableGauge(Metrics.BUFFER_PENDING, {
    description: 'Calls whose buffered writes have not landed yet',
  });
  const deadLettered = meter.createObservableGauge(Metrics.BUFFER_DEAD_LETTERED, {
    description: 'Calls whose writes are in a dead-letter file',
  });
  const openCalls = meter.createObservableGauge(Metrics.BUFFER_OPEN, {
    description: 'Journaled calls still live in this process',
  });
  const callback: BatchObservableCallback = (result) => {
    const values = read();
    result.observe(pending, values.pending);
    result.observe(deadLettered, values.deadLettered);
    result.observe(openCalls, values.openCalls);
  };
  meter.addBatchObservableCallback(callback, [pending, deadLettered, openCalls]);
  const flushDuration: Histogram = meter.createHistogram(Metrics.FLUSH_DURATION, {
    description: 'One flush attempt of a call\'s buffered writes (its transaction), landed or failed',
    unit: 'ms',
  });
  const flushStatements: Histogram = meter.createHistogram(Metrics.FLUSH_STATEMENTS, {
    description: 'Statements between BEGIN and COMMIT of a flush that landed',
    unit: '{statement}',
    advice: { explicitBucketBoundaries: [0, 1, 2, 3, 5, 10, 20, 50, 100, 250, 500, 1000] },
  });
  const writes: Histogram = meter.createHistogram(Metrics.CALL_WRITES, {
    description: 'Writes a call buffered, when it ends',
    unit: '{write}',
    advice: { explicitBucketBoundaries: [0, 1, 2, 3, 5, 10, 20, 50, 100, 250, 500, 1000] },
  });
  return {
    retries: meter.createCounter(Metrics.FLUSH_RETRIES, { description: 'Flush attempts retried after a transient failure' }),
    flushed: meter.createCounter(Metrics.FLUSHED, { description: 'Calls whose writes landed' }),
    deadLettered: meter.createCounter(Metrics.DEAD_LETTERS, { description: 'Calls dead-lettered' }),
    conflicts: meter.createCounter(Metrics.CONFLICTS, { description: 'Inserted rows another constraint rejected, landed by their conflict policy' }),
    flushAttempt: (ms, statements) => {
      flushDuration.record(ms, statements === undefined ? FAILED : LANDED);
      if (statements !== undefined) flushStatements.record(statements);
    },
    callWrites: (count) => writes.record(count),
    unregister: () => meter.removeBatchObservableCallback(callback, [pending, deadLettered, openCalls]),
  };
}
