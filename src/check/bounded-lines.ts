/** One line of an input, or what is known of a line too long to keep. */
export type InputLine =
  | { kind: 'line'; text: string; number: number; byteOffset: number; bytes: number }
  | { kind: 'too-long'; number: number; byteOffset: number; bytes: number };

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The lines of a stream (split on `\n`, a trailing `\r` dropped), each at
 * most `maxLineBytes` long. A longer line is never joined into a string:
 * its bytes are counted and dropped as they arrive, and it comes out as
 * `too-long` with its size. Memory stays within one line of `maxLineBytes`
 * plus one chunk, whatever the input (a zero-filled tail of gigabytes with
 * no newline included).
 */
export async function* boundedLines(stream: NodeJS.ReadableStream, maxLineBytes: number): AsyncGenerator<InputLine> {
  let pieces: Buffer[] = [];
  let lineBytes = 0;
  let tooLong = false;
  let number = 0;
  let lineStart = 0;
  let offset = 0;

  const finish = (): InputLine => {
    number += 1;
    const start = lineStart;
    const bytes = lineBytes;
    let line: InputLine;
    if (tooLong) {
      line = { kind: 'too-long', number, byteOffset: start, bytes };
    } else {
      let buffer = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, lineBytes);
      if (buffer.length > 0 && buffer[buffer.length - 1] === CARRIAGE_RETURN) buffer = buffer.subarray(0, buffer.length - 1);
      line = { kind: 'line', text: buffer.toString('utf8'), number, byteOffset: start, bytes };
    }
    pieces = [];
    lineBytes = 0;
    tooLong = false;
    return line;
  };

  const take = (part: Buffer): void => {
    lineBytes += part.length;
    if (tooLong) return;
    if (lineBytes > maxLineBytes) {
      tooLong = true;
      pieces = [];
      return;
    }
    if (part.length > 0) pieces.push(part);
  };

  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    let from = 0;
    while (from < buffer.length) {
      const newline = buffer.indexOf(NEWLINE, from);
      if (newline === -1) {
        take(buffer.subarray(from));
        offset += buffer.length - from;
        break;
      }
      take(buffer.subarray(from, newline));
      offset += newline - from + 1;
      const line = finish();
      lineStart = offset;
      from = newline + 1;
      yield line;
    }
  }
  if (lineBytes > 0 || tooLong) yield finish();
}
