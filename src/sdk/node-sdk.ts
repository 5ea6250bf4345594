import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ConsoleMetricExporter, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ConfigError } from '../errors.js';
import { LiveCallGuardProcessor, type LiveCallGuardOptions } from '../guard/live-call-guard-processor.js';
import { LiveCallSampler, samplerFromEnv } from '../guard/live-call-sampler.js';
import { liveCallInstrumentations } from '../guard/instrumentations.js';
import { traceFileFromEnv, traceFileProcessor } from '../guard/span-processors.js';

export interface TelemetryOptions {
  /** `service.name` of the resource, unless `OTEL_SERVICE_NAME` says otherwise. Default `live-call-guard`. */
  serviceName?: string;
  /** Span processors added after the exporters chosen from the environment (e.g. an in-memory exporter in tests). */
  spanProcessors?: SpanProcessor[];
  /** The live-call guard (mode, logger, onViolation). It is always registered first. */
  guard?: LiveCallGuardOptions;
  /** The sampler; default from `OTEL_TRACES_SAMPLER`. Always wrapped in a LiveCallSampler. */
  sampler?: Sampler;
  /**
   * Metric readers (e.g. a Prometheus exporter the app serves), added to the
   * ones `OTEL_METRICS_EXPORTER` / an OTLP endpoint ask for (see
   * {@link metricReadersFromEnv}). Default: the SDK's own choice from the
   * `OTEL_*` variables when an exporter or endpoint is set, else none.
   */
  metricReaders?: MetricReader[];
  /** Environment to read `OTEL_*` from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  /** The guard processor (its mode can be changed at run time). */
  readonly guard: LiveCallGuardProcessor;
  /** Exports what the span processors hold (e.g. the trace file's pending batch). */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporters. Runs once. */
  shutdown(): Promise<void>;
}

const STARTED = Symbol.for('live-call-guard.telemetry');
type GlobalWithTelemetry = typeof globalThis & { [STARTED]?: Telemetry };

/** The telemetry started in this process, if any. */
export function activeTelemetry(): Telemetry | undefined {
  return (globalThis as GlobalWithTelemetry)[STARTED];
}

/**
 * Starts the OpenTelemetry SDK: instrumentation-pg, the AsyncLocalStorage
 * context manager, and exporters from the standard variables. It must run
 * before `pg` is loaded (see `register.ts`). Starting twice in one process
 * returns the first instance.
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  const holder = globalThis as GlobalWithTelemetry;
  const existing = holder[STARTED];
  if (existing) return existing;

  const env = options.env ?? process.env;
  const guard = new LiveCallGuardProcessor(options.guard);
  // Undefined: NodeSDK reads OTEL_METRICS_EXPORTER itself (it does only when given no readers).
  const metricReaders = options.metricReaders ? [...metricReadersFromEnv(env), ...options.metricReaders] : wantsMetrics(env) ? undefined : [];
  // The guard first: in block mode it throws, which skips the processors after it.
  const spanProcessors = [guard, ...exportingProcessorsFromEnv(env), ...(options.spanProcessors ?? [])];
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ? undefined : (options.serviceName ?? 'live-call-guard'),
    contextManager: new AsyncLocalStorageContextManager(),
    instrumentations: liveCallInstrumentations(),
    sampler: new LiveCallSampler(options.sampler ?? samplerFromEnv(env)),
    spanProcessors,
    // Undefined: metric readers from the environment.
    ...(metricReaders ? { metricReaders } : {}),
    // Logs go through pino, not the OTel logs SDK.
    logRecordProcessors: [],
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  const telemetry: Telemetry = {
    guard,
    forceFlush: async () => {
      await Promise.all(spanProcessors.map((processor) => processor.forceFlush()));
    },
    shutdown: () => (stopping ??= sdk.shutdown()),
  };
  holder[STARTED] = telemetry;
  return telemetry;
}

const TRACE_EXPORTERS = ['otlp', 'console', 'none'] as const;

/**
 * `OTEL_TRACES_EXPORTER` (otlp, console, none; comma-separated). Unset: otlp
 * when an OTLP endpoint is configured, else none — a server with no collector
 * does not spend time failing to export. `LIVE_CALL_TRACE_FILE=path` adds OTLP
 * JSON lines written to that file.
 */
export function exportingProcessorsFromEnv(env: NodeJS.ProcessEnv): SpanProcessor[] {
  const names = listFromEnv(env.OTEL_TRACES_EXPORTER) ?? (hasOtlpEndpoint(env, 'TRACES') ? ['otlp'] : []);
  const processors = names.flatMap((name): SpanProcessor[] => {
    switch (name) {
      case 'otlp':
        return [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })];
      case 'console':
        return [new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() })];
      case 'none':
        return [];
      default:
        throw new ConfigError(
          `Invalid configuration: OTEL_TRACES_EXPORTER must list ${TRACE_EXPORTERS.join(', ')} (received ${JSON.stringify(env.OTEL_TRACES_EXPORTER)})`,
        );
    }
  });
  const traceFile = traceFileFromEnv(env);
  if (traceFile) processors.push(traceFileProcessor(traceFile));
  return processors;
}

const METRIC_EXPORTERS = ['otlp', 'console', 'none'] as const;

/**
 * The metric readers `OTEL_METRICS_EXPORTER` asks for (otlp, console, none;
 * comma-separated), for an app that gives readers of its own (NodeSDK reads
 * the variable only when it is given none). Unset: otlp when an OTLP
 * endpoint is configured, else none. otlp is OTLP/protobuf over HTTP (its
 * endpoint, headers and temporality from the exporter's own `OTEL_EXPORTER_OTLP_*`),
 * exported every `OTEL_METRIC_EXPORT_INTERVAL` ms (default 60 000).
 */
export function metricReadersFromEnv(env: NodeJS.ProcessEnv): MetricReader[] {
  const names = listFromEnv(env.OTEL_METRICS_EXPORTER) ?? (hasOtlpEndpoint(env, 'METRICS') ? ['otlp'] : []);
  if (names.includes('none')) return [];
  const periodic = {
    exportIntervalMillis: positiveFromEnv(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000),
    exportTimeoutMillis: positiveFromEnv(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000),
  };
  periodic.exportTimeoutMillis = Math.min(periodic.exportTimeoutMillis, periodic.exportIntervalMillis);
  return names.map((name) => {
    switch (name) {
      case 'otlp':
        return new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), ...periodic });
      case 'console':
        return new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), ...periodic });
      default:
        throw new ConfigError(
          `Invalid configuration: OTEL_METRICS_EXPORTER must list ${METRIC_EXPORTERS.join(', ')} when the app gives metric readers of its own (received ${JSON.stringify(env.OTEL_METRICS_EXPORTER)})`,
        );
    }
  });
}

function positiveFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`Invalid configuration: ${name} must be a positive whole number of ms (received ${JSON.stringify(raw)})`);
  return value;
}

function wantsMetrics(env: NodeJS.ProcessEnv): boolean {
  return listFromEnv(env.OTEL_METRICS_EXPORTER) !== undefined || hasOtlpEndpoint(env, 'METRICS');
}

function hasOtlpEndpoint(env: NodeJS.ProcessEnv, signal: 'TRACES' | 'METRICS'): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]);
}

function listFromEnv(value: string | undefined): string[] | undefined {
  const items = value?.split(',').map((item) => item.trim()).filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}
