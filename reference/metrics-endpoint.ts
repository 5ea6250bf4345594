import type { IncomingMessage, ServerResponse } from 'node:http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

/** One exporter per process, like the SDK it is given to (a module loaded twice, as a test runner does, finds it). */
const EXPORTER = Symbol.for('live-call-guard.reference.prometheus-exporter');
type Holder = typeof globalThis & { [EXPORTER]?: PrometheusExporter };

/**
 * The metric reader `register.ts` gives the SDK: the OTel Prometheus
 * exporter, without a server of its own (`/metrics` of the app serves it).
 */
export function prometheusReader(): PrometheusExporter {
  const holder = globalThis as Holder;
  holder[EXPORTER] ??= new PrometheusExporter({ preventServerStart: true });
  return holder[EXPORTER];
}

/** `GET /metrics`: Prometheus text of every OTel metric; 404 when no reader was registered (telemetry off). */
export function serveMetrics(request: IncomingMessage, response: ServerResponse): void {
  const exporter = (globalThis as Holder)[EXPORTER];
  if (!exporter) {
    response.statusCode = 404;
    response.end('metrics are not collected in this process\n');
    return;
  }
  exporter.getMetricsRequestHandler(request, response);
}
