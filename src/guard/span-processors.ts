import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { LiveCallGuardProcessor, type LiveCallGuardOptions } from './live-call-guard-processor.js';
import { TraceFileExporter } from './trace-file-exporter.js';

export interface LiveCallSpanProcessorsOptions extends LiveCallGuardOptions {
  /**
   * OTLP JSON lines for `live-call-guard check`. Default: `LIVE_CALL_TRACE_FILE`
   * from `env`; none when that is unset or empty.
   */
  traceFile?: string;
  /** Environment `LIVE_CALL_TRACE_FILE` is read from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** The guard's span processors: `processors[0]` is the guard. */
export interface LiveCallSpanProcessors extends Array<SpanProcessor> {
  0: LiveCallGuardProcessor;
}

/**
 * For an app with its own `NodeSDK`: the guard, and (with `traceFile` or
 * `LIVE_CALL_TRACE_FILE`) a processor writing OTLP JSON lines for `check`.
 * Put them FIRST in the SDK's `spanProcessors`; the file is complete once the
 * SDK is shut down (or force-flushed).
 */
export function liveCallSpanProcessors(options: LiveCallSpanProcessorsOptions = {}): LiveCallSpanProcessors {
  const { traceFile, env, ...guardOptions } = options;
  const guard = new LiveCallGuardProcessor(guardOptions);
  const file = traceFile ?? traceFileFromEnv(env ?? process.env);
  const processors: SpanProcessor[] = [guard];
  if (file) processors.push(traceFileProcessor(file));
  return processors as LiveCallSpanProcessors;
}

/** `LIVE_CALL_TRACE_FILE`, trimmed; undefined when unset or empty. */
export function traceFileFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env.LIVE_CALL_TRACE_FILE?.trim() || undefined;
}

/** A batch processor writing to `file` through a TraceFileExporter. */
export function traceFileProcessor(file: string): SpanProcessor {
  return new BatchSpanProcessor({ exporter: new TraceFileExporter(file) });
}
