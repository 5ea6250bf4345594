import fs from 'node:fs';
import { createInterface } from 'node:readline';
import { describeJsonFailure, jsonFailure, lineAndColumn } from './json-position.js';
import type { SkippedInput, SourcePosition, SpanRecord } from './span-record.js';
import { TraceChecker, type LiveCall, type TraceViolation } from './trace-checker.js';
import { KNOWN_FORMATS, spansOfValue } from './trace-formats.js';

export interface CheckTracesOptions {
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
  /** Distinct spans (by trace id and span id). */
  spans: number;
  /** Spans read again (same trace id and span id): ignored. */
  duplicates: number;
  traces: number;
  /** Live calls (`in_live_call` spans) judged. */
  calls: number;
  /** Each live call, in the order read. */
  liveCalls: ReadonlyArray<LiveCall>;
}

const MAX_SKIPPED_LISTED = 100;

/**
 * Checks exported traces for database queries during live calls. Each input
 * is a path (`-`: stdin) holding JSON lines (the Collector file exporter,
 * LIVE_CALL_TRACE_FILE, a FindTraces stream) or one JSON document, in any
 * format of `spansOfValue`. The verdict does not depend on the order of
 * lines or files; a span read twice counts once. Unreadable parts are
 * skipped and listed (a cut file with where it was cut).
 */
export async function checkTraces(inputs: string[], options: CheckTracesOptions = {}): Promise<CheckResult> {
  const checker = new TraceChecker();
  const skipped: SkippedInput[] = [];
  let skippedCount = 0;
  const skip = (entry: SkippedInput): void => {
    skippedCount += 1;
    if (skipped.length < MAX_SKIPPED_LISTED) skipped.push(entry);
  };
  const lines = await forEachSpan(inputs, (span) => checker.add(span), skip, options);
  const { violations, spans, duplicates, traces, calls, liveCalls } = checker.finish();
  return { violations, skipped, skippedCount, files: inputs.length, lines, spans, duplicates, traces, calls, liveCalls };
}

/**
 * Reads every input (a path, or `-` for stdin) in any format `check` reads
 * and hands each span to `onSpan`, in the order read; what cannot be used
 * goes to `skip`. Returns the lines read.
 */
export async function forEachSpan(
  inputs: string[],
  onSpan: (span: SpanRecord) => void,
  skip: (entry: SkippedInput) => void,
  options: CheckTracesOptions = {},
): Promise<number> {
  let lines = 0;
  const handle = (value: unknown, source: SourcePosition): void => {
    const spans = spansOfValue(value, source, skip);
    if (spans === undefined) skip({ ...source, reason: `not a known trace format (expected ${KNOWN_FORMATS})` });
    else for (const span of spans) onSpan(span);
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
    lines += await readInput(stream, file, handle, skip);
  }
  return lines;
}

/**
 * JSON lines, unless the first value does not fit on its first line: then
 * one document (or, if that fails, each line on its own). Returns the lines read.
 */
async function readInput(
  stream: NodeJS.ReadableStream,
  file: string,
  handle: (value: unknown, source: SourcePosition) => void,
  skip: (entry: SkippedInput) => void,
): Promise<number> {
  let document: { lines: string[]; firstLine: number; firstByte: number } | undefined;
  let lineNumber = 0;
  let byteOffset = 0;
  let firstValue = true;
  try {
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      lineNumber += 1;
      const lineStart = byteOffset;
      byteOffset += Buffer.byteLength(line) + 1;
      if (document) {
        document.lines.push(line);
        continue;
      }
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        if (firstValue) {
          document = { lines: [line], firstLine: lineNumber, firstByte: lineStart };
          continue;
        }
        const failure = jsonFailure(line, error);
        const column = failure.offset + 1;
        const where = { line: lineNumber, column, byteOffset: lineStart + Buffer.byteLength(line.slice(0, failure.offset)) };
        skip({ file, ...where, reason: describeJsonFailure(failure, where) });
        continue;
      }
      firstValue = false;
      handle(value, { file, line: lineNumber });
    }
  } catch (error) {
    skip({ file, line: lineNumber, reason: `read failed: ${(error as Error).message}` });
  }
  if (document) handleDocument(document, file, handle, skip);
  return lineNumber;
}

/** A file whose first line was not a whole JSON value: one document, or JSON lines whose first line is broken. */
function handleDocument(
  document: { lines: string[]; firstLine: number; firstByte: number },
  file: string,
  handle: (value: unknown, source: SourcePosition) => void,
  skip: (entry: SkippedInput) => void,
): void {
  const { lines, firstLine, firstByte } = document;
  const text = lines.join('\n');
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch (error) {
    const values = lines.map((line) => {
      try {
        return { ok: true as const, value: JSON.parse(line) as unknown };
      } catch (lineError) {
        return { ok: false as const, error: lineError };
      }
    });
    if (values.filter((v) => v.ok).length === 0) {
      const failure = jsonFailure(text, error);
      const { line, column } = lineAndColumn(text, failure.offset, firstLine);
      const where = { line, column, byteOffset: firstByte + Buffer.byteLength(text.slice(0, failure.offset)) };
      skip({ file, ...where, reason: describeJsonFailure(failure, where) });
      return;
    }
    let lineStart = firstByte;
    values.forEach((value, index) => {
      const line = lines[index]!;
      const source = { file, line: firstLine + index };
      const start = lineStart;
      lineStart += Buffer.byteLength(line) + 1;
      if (line.trim() === '') return;
      if (value.ok) {
        handle(value.value, source);
        return;
      }
      const failure = jsonFailure(line, value.error);
      const where = { ...source, column: failure.offset + 1, byteOffset: start + Buffer.byteLength(line.slice(0, failure.offset)) };
      skip({ ...where, reason: describeJsonFailure(failure, where) });
    });
    return;
  }
  handle(whole, { file, line: firstLine });
}
