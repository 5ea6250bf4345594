import fs from 'node:fs';
import path from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { ConfigError } from '../errors.js';

/**
 * Writes spans as OTLP JSON lines — one `ExportTraceServiceRequest` per line,
 * the format of the Collector's file exporter — so CI can check traces with
 * `live-call-guard check` and no collector. Use it behind a
 * BatchSpanProcessor: each batch is one appended line.
 */
export class TraceFileExporter implements SpanExporter {
  private fd: number | undefined;
  private writing: Promise<void> = Promise.resolve();

  /** Opens (creates, appends to) `file` now, so a bad path fails at start. */
  constructor(readonly file: string) {
    try {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.fd = fs.openSync(file, 'a');
    } catch (error) {
      throw new ConfigError(
        `Invalid configuration: LIVE_CALL_TRACE_FILE cannot be opened for writing (received ${JSON.stringify(file)}): ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const fd = this.fd;
    if (fd === undefined) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('trace file exporter is shut down') });
      return;
    }
    const line = Buffer.concat([Buffer.from(JsonTraceSerializer.serializeRequest(spans) ?? new Uint8Array()), NEWLINE]);
    // One line at a time, in order: lines never interleave.
    this.writing = this.writing.then(
      () =>
        new Promise<void>((resolve) => {
          fs.write(fd, line, (error) => {
            resultCallback(error ? { code: ExportResultCode.FAILED, error } : { code: ExportResultCode.SUCCESS });
            resolve();
          });
        }),
    );
  }

  async forceFlush(): Promise<void> {
    await this.writing;
  }

  async shutdown(): Promise<void> {
    await this.writing;
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

const NEWLINE = Buffer.from('\n');
