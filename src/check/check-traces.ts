import fs from 'node:fs';
import { DEFAULTS } from '../defaults.js';
import { boundedLines } from './bounded-lines.js';
import { describeJsonFailure, jsonFailure, lineAndColumn, nestsDeeperThan } from './json-position.js';
import type { SkippedInput, SourcePosition, SpanRecord } from './span-record.js';
import type { HostPattern } from '../guard/io-allowlist.js';
import { TraceChecker, type LiveCall, type TraceViolation } from './trace-checker.js';
import { KNOWN_FORMATS, spansOfValue } from './trace-formats.js';

export interface CheckTracesOptions {
  /** What `-` reads. Default `process.stdin`. */
  stdin?: NodeJS.ReadableStream;
  /** The longest line kept; a longer one is skipped and reported. Default `DEFAULTS.checkMaxLineBytes` (64 MiB). */
  maxLineBytes?: number;
  /** How much of a file whose first line does not parse is held to be parsed as one document. Default `DEFAULTS.checkMaxDocumentBytes` (64 MiB). */
  maxDocumentBytes?: number;
  /** The deepest nesting read; a deeper line is skipped and reported. Default `DEFAULTS.checkMaxJsonDepth` (256). */
  maxJsonDepth?: number;
  /** Hosts whose I/O is allowed during a live call (`--allow-host`), as the runtime's `allowHosts`. Default none. */
  allowHosts?: readonly HostPattern[];
  /** Span names that also mark a live window (`--window-span`), e.g. `conversation`, `turn`, `agent_session`. Default none. */
  windowSpans?: readonly string[];
  /** Attributes whose spans also mark a live window (`--window-attribute KEY[=VALUE]`). Default none. */
  windowAttributes?: ReadonlyArray<{ key: string; value?: string }>;
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
/** Files are read in chunks of this size (a long run with no newline is scanned, not joined). */
const READ_CHUNK_BYTES = 1 << 20;

/**
 * Checks exported traces for database queries during live calls. Each input
 * is a path (`-`: stdin) holding JSON lines (the Collector file exporter,
 * LIVE_CALL_TRACE_FILE, a FindTraces stream) or one JSON document, in any
 * format of `spansOfValue`. The verdict does not depend on the order of
 * lines or files; a span read twice counts once. Unreadable parts are
 * skipped and listed (a cut file with where it was cut).
 */
export async function checkTraces(inputs: string[], options: CheckTracesOptions = {}): Promise<CheckResult> {
  const checker = new TraceChecker({
    allowHosts: options.allowHosts ?? [],
    windowSpans: options.windowSpans ?? [],
    windowAttributes: options.windowAttributes ?? [],
  });
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
  const limits = readLimits(options);
  const handle = (value: unknown, source: SourcePosition, skipHere: (entry: SkippedInput) => void): void => {
    const spans = spansOfValue(value, source, skipHere);
    if (spans === undefined) skipHere({ ...source, reason: `not a known trace format (expected ${KNOWN_FORMATS})` });
    else for (const span of spans) onSpan(span);
  };
  for (const input of inputs) {
    const file = input === '-' ? '<stdin>' : input;
    let stream: NodeJS.ReadableStream;
    try {
      stream = input === '-' ? (options.stdin ?? process.stdin) : (await fs.promises.open(input)).createReadStream({ highWaterMark: READ_CHUNK_BYTES });
    } catch (error) {
      skip({ file, line: 0, reason: `cannot be read: ${(error as Error).message}` });
      continue;
    }
    lines += await readInput(stream, file, handle, skip, limits);
  }
  return lines;
}

function readLimits(options: CheckTracesOptions): ReadLimits {
  const limit = (name: keyof ReadLimits, fallback: number): number => {
    const value = options[name] ?? fallback;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`checkTraces: ${name} must be a positive integer (received ${JSON.stringify(value)})`);
    }
    return value;
  };
  return {
    maxLineBytes: limit('maxLineBytes', DEFAULTS.checkMaxLineBytes),
    maxDocumentBytes: limit('maxDocumentBytes', DEFAULTS.checkMaxDocumentBytes),
    maxJsonDepth: limit('maxJsonDepth', DEFAULTS.checkMaxJsonDepth),
  };
}

/** The limits a reader keeps to, whatever the input. */
interface ReadLimits {
  maxLineBytes: number;
  maxDocumentBytes: number;
  maxJsonDepth: number;
}

/** A file whose first line was not a whole JSON value, held (bounded) in case it is one document. */
interface HeldDocument {
  lines: string[];
  bytes: number;
  firstLine: number;
  firstByte: number;
}

/** Skips found while a file might still be one document: reported only if it is not. */
class PendingSkips {
  readonly kept: SkippedInput[] = [];
  more = 0;
  add(entry: SkippedInput): void {
    if (this.kept.length < MAX_SKIPPED_LISTED) this.kept.push(entry);
    else this.more += 1;
  }
  flushTo(skip: (entry: SkippedInput) => void, file: string): void {
    for (const entry of this.kept) skip(entry);
    for (let i = 0; i < this.more; i += 1) skip({ file, line: 0, reason: 'unreadable line (not listed)' });
    this.kept.length = 0;
    this.more = 0;
  }
}

/** Two lines that are traces on their own: the file is JSON lines, not one document. */
const LINES_THAT_PROVE_JSON_LINES = 2;

/**
 * JSON lines, unless the first value does not fit on its first line: then
 * one document (or, if that fails, each line on its own). Every line is
 * bounded (`maxLineBytes`, `maxJsonDepth`): what is too big or too deep is
 * skipped and reported, and the lines after it are read. When the first line
 * does not parse, later lines are still read one by one as they come, and
 * the file is also held as a possible document only up to
 * `maxDocumentBytes`, and only until two lines prove it is JSON lines.
 * Returns the lines read.
 */
async function readInput(
  stream: NodeJS.ReadableStream,
  file: string,
  handle: (value: unknown, source: SourcePosition, skip: (entry: SkippedInput) => void) => void,
  skip: (entry: SkippedInput) => void,
  limits: ReadLimits,
): Promise<number> {
  let firstValue = true;
  let lineNumber = 0;
  /** Set once the first line failed: the file may be one document. */
  let probe: { held: HeldDocument | undefined; pending: PendingSkips; parsedLines: number; traceLines: number } | undefined;
  const skipNow = (entry: SkippedInput): void => (probe ? probe.pending.add(entry) : skip(entry));
  try {
    for await (const line of boundedLines(stream, limits.maxLineBytes)) {
      lineNumber = line.number;
      if (line.kind === 'too-long') {
        if (probe) probe.held = undefined;
        skipNow({
          file,
          line: line.number,
          column: 1,
          byteOffset: line.byteOffset,
          reason: `line too long: ${line.bytes} bytes with no newline, over the limit of ${limits.maxLineBytes} (--max-line-bytes); skipped`,
        });
        firstValue = false;
        continue;
      }
      const { text } = line;
      if (probe?.held) {
        probe.held.lines.push(text);
        probe.held.bytes += line.bytes + 1;
        if (probe.held.bytes > limits.maxDocumentBytes) probe.held = undefined;
      }
      if (text.trim() === '') continue;
      const source = { file, line: line.number };
      if (nestsDeeperThan(text, limits.maxJsonDepth)) {
        skipNow({ ...source, column: 1, byteOffset: line.byteOffset, reason: tooDeep(limits.maxJsonDepth) });
        firstValue = false;
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        const failure = jsonFailure(text, error);
        const where = { line: line.number, column: failure.offset + 1, byteOffset: line.byteOffset + Buffer.byteLength(text.slice(0, failure.offset)) };
        const entry = { file, ...where, reason: describeJsonFailure(failure, where) };
        if (firstValue) {
          firstValue = false;
          const held = line.bytes <= limits.maxDocumentBytes ? { lines: [text], bytes: line.bytes + 1, firstLine: line.number, firstByte: line.byteOffset } : undefined;
          probe = { held, pending: new PendingSkips(), parsedLines: 0, traceLines: 0 };
        }
        skipNow(entry);
        continue;
      }
      firstValue = false;
      if (probe) {
        probe.parsedLines += 1;
        const before = probe.pending.kept.length + probe.pending.more;
        handle(value, source, skipNow);
        if (probe.pending.kept.length + probe.pending.more === before) probe.traceLines += 1;
        if (probe.traceLines >= LINES_THAT_PROVE_JSON_LINES) probe.held = undefined;
        continue;
      }
      handle(value, source, skip);
    }
  } catch (error) {
    if (probe) {
      probe.held = undefined;
      probe.pending.flushTo(skip, file);
      probe = undefined;
    }
    skip({ file, line: lineNumber, reason: `read failed: ${(error as Error).message}` });
  }
  if (probe) {
    const { held, pending, parsedLines } = probe;
    if (!held || !handleDocument(held, file, handle, skip, limits, parsedLines === 0)) pending.flushTo(skip, file);
  }
  return lineNumber;
}

function tooDeep(maxJsonDepth: number): string {
  return `nested deeper than ${maxJsonDepth} levels of objects and arrays; skipped`;
}

/**
 * A file whose first line was not a whole JSON value, as one document.
 * Returns whether it was handled (parsed, or reported as one broken
 * document because none of its lines parsed on its own); false: report
 * its lines' own failures instead.
 */
function handleDocument(
  document: HeldDocument,
  file: string,
  handle: (value: unknown, source: SourcePosition, skip: (entry: SkippedInput) => void) => void,
  skip: (entry: SkippedInput) => void,
  limits: ReadLimits,
  noLineParsed: boolean,
): boolean {
  const { lines, firstLine, firstByte } = document;
  const text = lines.join('\n');
  const source = { file, line: firstLine };
  if (nestsDeeperThan(text, limits.maxJsonDepth)) {
    if (!noLineParsed) return false;
    skip({ ...source, column: 1, byteOffset: firstByte, reason: tooDeep(limits.maxJsonDepth) });
    return true;
  }
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch (error) {
    if (!noLineParsed) return false;
    const failure = jsonFailure(text, error);
    const { line, column } = lineAndColumn(text, failure.offset, firstLine);
    const where = { line, column, byteOffset: firstByte + Buffer.byteLength(text.slice(0, failure.offset)) };
    skip({ file, ...where, reason: describeJsonFailure(failure, where) });
    return true;
  }
  handle(whole, source, skip);
  return true;
}
