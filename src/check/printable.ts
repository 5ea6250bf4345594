/**
 * Control characters (C0, DEL, C1), bidi overrides and isolates, and line
 * and paragraph separators: what a string read from a trace could use to
 * repaint a terminal (ANSI escapes), reorder what a reviewer sees (Trojan
 * Source), or start a line of its own in a CI log (`::error::` is a GitHub
 * Actions workflow command).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `text` on one line with every unsafe character written as a visible escape (`\x1b`, `\u202e`). */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
