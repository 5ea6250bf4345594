import fs from 'node:fs';
import { createInterface } from 'node:readline';
import { isJaegerDocument, spansFromJaeger } from './jaeger-json.js';
import { isOtlpTracesDocument, spansFromOtlp } from './otlp-json.js';
import type { SkippedInput, SourcePosition } from './span-record.js';
import { TraceChecker, type TraceCheckerOptions, type TraceViolation } from './trace-checker.js';

export interface CheckTracesOptions extends TraceCheckerOptions {
  /** What `-` reads. Default `process.stdin`. */
  stdin?: NodeJS.ReadableStream;
}

export interface CheckResult {
  violations: TraceViolation[];
  /** What could not be read, with where and why (at most MAX_SKIPPED_LISTED listed). */
  skipped: SkippedInput[];
  /** How many inputs or parts of inputs were skipped in all. */
  skippedCount: number;
  files: number;
  lines: number;
  spans: number;
  traces: number;
  /** Traces judged before they were whole because too many were in flight. */
  judgedWithoutWholeTrace: number;
}

const MAX_SKIPPED_LISTED = 100;
const KNOWN_FORMATS = 'OTLP JSON (resourceSpans) or Jaeger JSON (data[].spans)';

/**
 * Checks exported traces for database queries during live calls. Each input
 * is a path (`-`: stdin) holding OTLP JSON lines (the Collector file exporter,
 * LIVE_CALL_TRACE_FILE), or one OTLP or Jaeger JSON document. JSON lines are
 * streamed: memory is bounded by the traces in flight. A trace may be split
 * across lines and files. Unreadable parts are skipped and listed.
 */
export async function checkTraces(inputs: string[], options: CheckTracesOptions = {}): Promise<CheckResult> {
  const checker = new TraceChecker(options);
  const skipped: SkippedInput[] = [];
  let skippedCount = 0;
  let lines = 0;
  const skip = (entry: SkippedInput): void => {
    skippedCount += 1;
    if (skipped.length < MAX_SKIPPED_LISTED) skipped.push(entry);
  };

  const handle = (value: unknown, source: SourcePosition): void => {
    if (isOtlpTracesDocument(value)) {
      for (const span of spansFromOtlp(value, source, skip)) checker.add(span);
      checker.endOfChunk(false);
    } else if (isJaegerDocument(value)) {
      for (const span of spansFromJaeger(value, source, skip)) checker.add(span);
      checker.endOfChunk(true);
    } else {
      skip({ ...source, reason: `not a known trace format (expected ${KNOWN_FORMATS})` });
    }
  };

  for (const input of inputs) {
    const file = input === '-' ? '<stdin>' : input;
    let stream: NodeJS.ReadableStream;
    try {
      stream = input === '-' ? (options.stdin ?? process.stdin) : (await fs.promises.open(input)).createReadStream();
    } catch (error) {
      skip({ file, line: 0, reason: `cannot be read: ${(error as Error).message}` });
      continue;
    }

    // JSON lines, unless the first line is not a whole JSON value: then one document.
    let document: string[] | undefined;
    let documentStart = 0;
    let lineNumber = 0;
    let firstValue = true;
    try {
      for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
        lineNumber += 1;
        if (document) {
          document.push(line);
          continue;
        }
        if (line.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (error) {
          if (firstValue) {
            document = [line];
            documentStart = lineNumber;
            continue;
          }
          skip({ file, line: lineNumber, reason: `not JSON (${(error as Error).message})` });
          continue;
        }
        firstValue = false;
        handle(value, { file, line: lineNumber });
      }
    } catch (error) {
      skip({ file, line: lineNumber, reason: `read failed: ${(error as Error).message}` });
    }
    if (document) handleDocument(document, documentStart, file, handle, skip);
    lines += lineNumber;
  }

  const { violations, spans, traces, judgedWithoutWholeTrace } = checker.finish();
  return { violations, skipped, skippedCount, files: inputs.length, lines, spans, traces, judgedWithoutWholeTrace };
}

/**
 * A file whose first line was not a whole JSON value: one document, or JSON
 * lines whose first line is broken (then each line on its own).
 */
function handleDocument(
  lines: string[],
  firstLine: number,
  file: string,
  handle: (value: unknown, source: SourcePosition) => void,
  skip: (entry: SkippedInput) => void,
): void {
  try {
    handle(JSON.parse(lines.join('\n')), { file, line: firstLine });
    return;
  } catch (error) {
    const values = lines.map((line) => parseOrError(line));
    if (values.filter((v) => v.ok).length === 0) {
      skip({ file, line: firstLine, reason: `not JSON (${(error as Error).message})` });
      return;
    }
    values.forEach((value, index) => {
      if (lines[index]!.trim() === '') return;
      const source = { file, line: firstLine + index };
      if (value.ok) handle(value.value, source);
      else skip({ ...source, reason: `not JSON (${value.message})` });
    });
  }
}

function parseOrError(line: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(line) };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}
