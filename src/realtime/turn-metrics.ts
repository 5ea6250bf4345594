import { metrics, type Attributes as MetricAttributes, type Histogram } from '@opentelemetry/api';
import { Attributes, INSTRUMENTATION_NAME, Metrics } from '../guard/attributes.js';

let histogram: Histogram | undefined;
const ANSWERED: MetricAttributes = Object.freeze({ [Attributes.REALTIME_ANSWERED]: true });
const UNANSWERED: MetricAttributes = Object.freeze({ [Attributes.REALTIME_ANSWERED]: false });

/**
 * `live_call.turn.duration` (ms) {realtime.turn.answered}: a caller turn,
 * speech stopped → the first audio of the answer (answered), or → the turn's
 * end without one (barge-in, the next turn, the call's end). Created on first
 * use: the meter provider registered by then is the one recorded on.
 */
export function recordTurn(ms: number, answered: boolean): void {
  histogram ??= metrics.getMeter(INSTRUMENTATION_NAME).createHistogram(Metrics.TURN_DURATION, {
    description: 'A caller turn: speech stopped to the first audio of the answer (answered), or to its end without one',
    unit: 'ms',
    advice: { explicitBucketBoundaries: [50, 100, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000, 3000, 5000, 10000] },
  });
  histogram.record(ms, answered ? ANSWERED : UNANSWERED);
}
