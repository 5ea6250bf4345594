import type { IncomingMessage, ServerResponse } from 'node:http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

let exporter: PrometheusExporter | undefined;

/**
 * The metric reader `register.ts` gives the SDK: the OTel Prometheus
 * exporter, without a server of its own (`/metrics` of the app serves it).
 */
export function prometheusReader(): PrometheusExporter {
  exporter ??= new PrometheusExporter({ preventServerStart: true });
  return exporter;
}

/** `GET /metrics`: Prometheus text of every OTel metric; 404 when no reader was registered (telemetry off). */
export function serveMetrics(request: IncomingMessage, response: ServerResponse): void {
  if (!exporter) {
    response.statusCode = 404;
    response.end('metrics are not collected in this process\n');
    return;
  }
  exporter.getMetricsRequestHandler(request, response);
}
