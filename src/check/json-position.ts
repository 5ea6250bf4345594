/** Where a JSON.parse failure is, and whether the text was cut short. */
export interface JsonFailure {
  message: string;
  /** The text ends before the value does: a cut (truncated) file or line. */
  cut: boolean;
  /** 0-based character offset in the text (its end for a cut). */
  offset: number;
}

/** Reads V8's JSON.parse message ("... at position N", "Unexpected end of JSON input", "Unterminated string"). */
export function jsonFailure(text: string, error: unknown): JsonFailure {
  const message = (error as Error).message;
  const position = /at position (\d+)/.exec(message);
  const cut =
    /Unexpected end of JSON input|Unterminated string/.test(message) ||
    (position !== null && Number(position[1]) >= text.trimEnd().length);
  if (cut) return { message, cut, offset: text.length };
  return { message, cut, offset: position ? Number(position[1]) : 0 };
}

/** 1-based line and column of `offset` in `text`, counting from `firstLine`. */
export function lineAndColumn(text: string, offset: number, firstLine: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const newlines = before.split('\n');
  return { line: firstLine + newlines.length - 1, column: newlines[newlines.length - 1]!.length + 1 };
}

/** A human reason for a JSON failure, naming a cut as such. */
export function describeJsonFailure(failure: JsonFailure, where: { line: number; column: number; byteOffset: number }): string {
  return failure.cut
    ? `cut: the JSON value ends early, at line ${where.line}, column ${where.column} (byte ${where.byteOffset}) — was the file truncated?`
    : `not JSON (${failure.message})`;
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether JSON text nests objects and arrays deeper than `maxDepth` (brackets
 * inside strings do not count). One pass, no allocation: run before the
 * value is walked by code that recurses.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i += 1;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
}
