import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { callSidSchema, sidSchema } from '../context/call-ids.js';
import { JournalError } from '../errors.js';
import { describeZodError } from '../zod-error.js';
import type { JsonValue, Row } from './write-operation.js';
import type { Owner } from './owner.js';
import { ownerTag } from './owner.js';

/** A tenant id as journaled: whatever the app's tenant schema gives (integer, UUID, text). */
export type TenantId = string | number;

/** The call a journal file (and a WriteBuffer) belongs to. */
export interface CallHeader {
  readonly callSid: string;
  /**
   * The stream these writes came from (one call may have several: a second
   * `/twiml` for the same call opens a new stream). Idempotency keys are
   * `<streamSid>:<seq>`, so two streams of a call never collide; null for a
   * buffer not tied to a stream (keys `<callSid>:<seq>`).
   */
  readonly streamSid: string | null;
  /** The tenant every row of the call is bound to. */
  readonly tenantId: TenantId;
  /** What the app bound at call start for its rows (e.g. the call's lead). */
  readonly bindings: Readonly<Record<string, JsonValue>>;
}

/** A buffered write: its operation, the row it writes, its place in the call and its idempotency key. */
export interface BufferedWrite {
  readonly seq: number;
  readonly idempotencyKey: string;
  /** The operation's name, as the app declared it. */
  readonly op: string;
  readonly row: Row;
}

export const JOURNAL_SUFFIX = '.journal';
const FILE_NAME = /^([A-Za-z0-9_%-]{1,192})\.(\d+)-(\d+)\.(\d+)\.journal$/;

/**
 * A call sid as a file-name component: letters, digits, `_` and `-` stay,
 * every other byte becomes `%XX` (a sid is printable ASCII, see call-ids.ts,
 * so at most 192 characters). Ids are not file names: `CA.dot` or `CA/x`
 * must name a file in the journal directory and nothing else.
 */
export function encodeCallSid(callSid: string): string {
  return callSid.replace(/[^A-Za-z0-9_-]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The inverse of {@link encodeCallSid}; undefined for a component it cannot have made. */
export function decodeCallSid(component: string): string | undefined {
  try {
    const sid = decodeURIComponent(component);
    return encodeCallSid(sid) === component ? sid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `<encoded callSid>.<pid>-<startTime>.<n>.journal`: the call, the process
 * that owns the file, and `n` telling apart two files of one call the same
 * process holds (a live call and a recovered one of the same sid, or two
 * streams of one call). Only the owner creates names with its own tag, so it
 * can pick a free `n` without racing anyone.
 */
export function journalFileName(callSid: string, owner: Owner, n = 0): string {
  return `${encodeCallSid(callSid)}.${ownerTag(owner)}.${n}${JOURNAL_SUFFIX}`;
}

/** The call sid and owner in a journal file name, or undefined for any other file. */
export function parseJournalFileName(fileName: string): { callSid: string; owner: Owner } | undefined {
  const match = FILE_NAME.exec(path.basename(fileName));
  if (!match) return undefined;
  const callSid = decodeCallSid(match[1]!);
  if (callSid === undefined) return undefined;
  return { callSid, owner: { pid: Number(match[2]), startTime: Number(match[3]) } };
}

/** The first `<callSid>.<owner>.<n>.journal` in `dir` that does not exist (n < 1000). */
export function freeJournalPath(dir: string, callSid: string, owner: Owner): string | undefined {
  for (let n = 0; n < 1000; n++) {
    const candidate = path.join(dir, journalFileName(callSid, owner, n));
    if (!fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

const jsonValue = z.json();
const headerRecord = z.strictObject({
  type: z.literal('call'),
  v: z.literal(3),
  callSid: callSidSchema,
  streamSid: sidSchema.nullable(),
  tenantId: z.union([z.string().min(1).max(200), z.number()]),
  bindings: z.record(z.string(), jsonValue),
});
const writeRecord = z.strictObject({
  type: z.literal('write'),
  seq: z.number().int().min(1),
  op: z.string().min(1).max(64),
  row: z.record(z.string(), jsonValue),
});
const flushedRecord = z.strictObject({ type: z.literal('flushed'), at: z.string() });

/** A buffered write's idempotency key: `<streamSid or callSid>:<seq>`. */
export function idempotencyKey(prefix: string, seq: number): string {
  return `${prefix}:${seq}`;
}

/** One line of a journal file (JSON, then a newline). */
export function headerLine(header: CallHeader): string {
  return `${JSON.stringify({ type: 'call', v: 3, ...header })}\n`;
}
export function writeLine(write: BufferedWrite): string {
  return `${JSON.stringify({ type: 'write', seq: write.seq, op: write.op, row: write.row })}\n`;
}
export function flushedLine(): string {
  return `${JSON.stringify({ type: 'flushed', at: new Date().toISOString() })}\n`;
}

/**
 * Whether a journal file holds no complete line: its header's write(2)
 * never finished (the process died between open and header, or the disk
 * was full). Such a call never acknowledged a write: there is nothing to
 * recover and nothing to dead-letter.
 */
export function isHeaderless(text: string): boolean {
  return !text.includes('\n');
}

/** What a journal file says. */
export interface JournalContents {
  readonly header: CallHeader;
  readonly writes: readonly BufferedWrite[];
  readonly flushed: boolean;
}

/**
 * Parses a journal file (format v3; the receptionist's v1/v2 from before the
 * layer are refused, naming their version). A last line without
 * its newline is a write torn by a crash: it was never acknowledged (enqueue
 * had not returned), so it is ignored. Anything else that does not parse is
 * corruption.
 * @throws {JournalError} the file is corrupt (its reason in the message).
 */
export function parseJournal(text: string, fileName: string): JournalContents {
  const lines = text.split('\n');
  lines.pop(); // "" after the last newline, or a torn last line
  const fail = (line: number, reason: string, cause?: unknown) =>
    new JournalError(`journal ${path.basename(fileName)} line ${line}: ${reason}`, cause ? { cause } : undefined);
  const parseLine = (index: number): unknown => {
    try {
      return JSON.parse(lines[index]!);
    } catch (error) {
      throw fail(index + 1, 'not JSON', error);
    }
  };
  if (lines.length === 0) throw fail(1, 'no call header');
  const first = parseLine(0);
  const version = (first as { v?: unknown } | null)?.v;
  if ((first as { type?: unknown } | null)?.type === 'call' && version !== 3) {
    throw fail(1, `journal format v${JSON.stringify(version)} is not read (this version reads v3 only)`);
  }
  const parsed = headerRecord.safeParse(first);
  if (!parsed.success) throw fail(1, `bad call header: ${describeZodError(parsed.error)}`, parsed.error);
  const { callSid, streamSid, tenantId, bindings } = parsed.data;
  const header: CallHeader = { callSid, streamSid, tenantId, bindings };
  const prefix = streamSid ?? callSid;

  const writes: BufferedWrite[] = [];
  let flushed = false;
  for (let index = 1; index < lines.length; index++) {
    const record = parseLine(index);
    if (flushedRecord.safeParse(record).success) {
      flushed = true;
      continue;
    }
    const write = writeRecord.safeParse(record);
    if (!write.success) throw fail(index + 1, `bad write: ${describeZodError(write.error)}`, write.error);
    if (write.data.seq !== writes.length + 1) throw fail(index + 1, `seq ${write.data.seq} out of order`);
    writes.push({ seq: write.data.seq, idempotencyKey: idempotencyKey(prefix, write.data.seq), op: write.data.op, row: write.data.row as Row });
  }
  return { header, writes, flushed };
}
