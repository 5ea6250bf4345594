import { metrics, type Counter, type MeterProvider, type BatchObservableCallback } from '@opentelemetry/api';

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
  /** Stops reporting the gauges. */
  unregister(): void;
}

/**
 * The buffer's metrics, on meter `live-call-guard`:
 * - `live_call.buffer.pending` (gauge): calls whose writes wait to land (flushing, retrying, recovering)
 * - `live_call.buffer.dead_lettered` (gauge): dead-letter files in the journal
 * - `live_call.buffer.open` (gauge): journaled calls still live in this process
 * - `live_call.buffer.flush.retries`, `live_call.buffer.flushed`,
 *   `live_call.buffer.dead_letters`, `live_call.buffer.conflicts` (counters)
 */
export function createFlusherInstruments(
  read: () => FlusherGaugeValues,
  meterProvider: MeterProvider = metrics.getMeterProvider(),
): FlusherInstruments {
  const meter = meterProvider.getMeter('live-call-guard');
  const pending = meter.createObservableGauge('live_call.buffer.pending', {
    description: 'Calls whose buffered writes have not landed yet',
  });
  const deadLettered = meter.createObservableGauge('live_call.buffer.dead_lettered', {
    description: 'Calls whose writes are in a dead-letter file',
  });
  const openCalls = meter.createObservableGauge('live_call.buffer.open', {
    description: 'Journaled calls still live in this process',
  });
  const callback: BatchObservableCallback = (result) => {
    const values = read();
    result.observe(pending, values.pending);
    result.observe(deadLettered, values.deadLettered);
    result.observe(openCalls, values.openCalls);
  };
  meter.addBatchObservableCallback(callback, [pending, deadLettered, openCalls]);
  return {
    retries: meter.createCounter('live_call.buffer.flush.retries', { description: 'Flush attempts retried after a transient failure' }),
    flushed: meter.createCounter('live_call.buffer.flushed', { description: 'Calls whose writes landed' }),
    deadLettered: meter.createCounter('live_call.buffer.dead_letters', { description: 'Calls dead-lettered' }),
    conflicts: meter.createCounter('live_call.buffer.conflicts', { description: 'Inserted rows another constraint rejected, landed by their conflict policy' }),
    unregister: () => meter.removeBatchObservableCallback(callback, [pending, deadLettered, openCalls]),
  };
}
