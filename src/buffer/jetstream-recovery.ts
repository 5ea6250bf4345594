import { JournalError } from '../errors.js';
import { describeError, unreadableLetterName, type DeadLetter, type WrittenDeadLetter } from './dead-letter.js';
import type { RecoveryReport } from './flush-outcome.js';
import type { CallJournalHandle } from './journal-backend.js';
import { parseJournal } from './journal-format.js';
import type { JournalRecoveryHost } from './journal-recovery.js';
import { WriteBuffer } from './write-buffer.js';

/** What recovery uses of a KV bucket (a structural subset of @nats-io/kv's KV: no client types in the declarations). */
export interface KvBucket {
  get(key: string): Promise<{ readonly operation: string; readonly revision: number; string(): string } | null>;
  /** Fails when the key exists (a delete or purge marker does not count). */
  create(key: string, value: string): Promise<number>;
  /** Fails unless the key's last revision is `revision` (compare-and-set). */
  update(key: string, value: string, revision: number): Promise<number>;
  delete(key: string): Promise<void>;
}

/** What recovery uses of the JetStream journal. */
export interface JetStreamRecoverySource {
  readonly instanceId: string;
  readonly subjectPrefix: string;
  /** Heartbeats: key = instance id, expired after the TTL (the bucket's max_age). */
  readonly instances: KvBucket;
  /** Claims: key = `<instance>.<call>`, value = the recovering instance's id. */
  readonly claims: KvBucket;
  callSubjects(): Promise<Record<string, number>>;
  read(subject: string, expected?: number): Promise<string[]>;
  adopt(subject: string, onFinished: () => Promise<void>): CallJournalHandle;
  purge(subject: string): Promise<void>;
  writeDeadLetter(name: string, letter: DeadLetter): Promise<WrittenDeadLetter>;
}

type Counts = { -readonly [K in keyof RecoveryReport]: number };

/**
 * One recovery pass: the calls of instances whose heartbeat expired are
 * claimed (one recoverer per call, by KV compare-and-set), read, and landed
 * through the host's flush (which purges them); unreadable ones go to the
 * dead letters with their raw messages. Calls of live instances are never
 * touched.
 */
export async function recoverGoneInstances(source: JetStreamRecoverySource, host: JournalRecoveryHost): Promise<RecoveryReport> {
  const report: Counts = { claimed: 0, flushed: 0, deadLettered: 0, deferred: 0, empty: 0 };
  const subjects = await source.callSubjects();
  const alive = new Map<string, boolean>();
  const queue: Array<{ subject: string; instance: string; call: string }> = [];
  for (const subject of Object.keys(subjects)) {
    const [instance, call] = subject.slice(source.subjectPrefix.length + '.calls.'.length).split('.');
    if (!instance || !call || instance === source.instanceId) continue;
    if (!alive.has(instance)) alive.set(instance, await isAlive(source, instance));
    if (!alive.get(instance)) queue.push({ subject, instance, call });
  }
  const worker = async () => {
    for (let next = queue.shift(); next && !host.isStopped(); next = queue.shift()) {
      try {
        await recoverCall(source, host, next, report);
      } catch (error) {
        host.logger.error({ err: error, subject: next.subject }, 'recovering a journaled call failed');
      }
    }
  };
  await Promise.all(Array.from({ length: host.concurrency }, worker));
  if (report.claimed > 0) host.logger.info(report, 'journal recovery pass (JetStream)');
  return report;
}

/** Whether an instance's heartbeat is there (not expired, not deleted at a clean stop). */
async function isAlive(source: JetStreamRecoverySource, instance: string): Promise<boolean> {
  const entry = await source.instances.get(instance);
  return entry !== null && entry.operation === 'PUT';
}

/**
 * Claims a call for this instance: creates its claim key, or takes over a
 * claim whose holder is gone by an update at the revision read (of two
 * instances racing, the second create or update fails).
 */
async function claim(source: JetStreamRecoverySource, key: string): Promise<boolean> {
  try {
    await source.claims.create(key, source.instanceId);
    return true;
  } catch {
    // Claimed before: by a live recoverer (leave it) or a gone one (take it over).
  }
  const entry = await source.claims.get(key);
  if (!entry || entry.operation !== 'PUT') return false;
  const holder = entry.string();
  // Our own claim: an earlier pass of ours failed part way (passes do not overlap): take it again.
  if (holder === source.instanceId) return true;
  if (await isAlive(source, holder)) return false;
  try {
    await source.claims.update(key, source.instanceId, entry.revision);
    return true;
  } catch {
    return false;
  }
}

async function recoverCall(
  source: JetStreamRecoverySource,
  host: JournalRecoveryHost,
  call: { subject: string; instance: string; call: string },
  report: Counts,
): Promise<void> {
  const key = `${call.instance}.${call.call}`;
  if (!(await claim(source, key))) return; // a live recoverer has it
  const release = () => source.claims.delete(key);
  // Counted afresh under the claim: another recoverer may have landed and purged it since the listing.
  const lines = await source.read(call.subject);
  if (lines.length === 0) return release(); // another recoverer landed it since the listing
  report.claimed++;
  const callSid = Buffer.from(call.call.replace(/-\d+$/, ''), 'base64url').toString('utf8');
  let contents;
  let dropped = 0;
  try {
    const journal = orderedJournal(lines);
    dropped = journal.dropped;
    contents = parseJournal(journal.text, call.subject);
  } catch (error) {
    const reason = error instanceof JournalError ? error.message : `unreadable journal: ${(error as Error).message}`;
    const letter = await source.writeDeadLetter(unreadableLetterName(callSid, lines.join('\n')), {
      reason: `unreadable journal: ${reason}`,
      error: describeError(error),
      rawJournal: lines.join('\n'),
      journalFile: call.subject,
      deadLetteredAt: new Date().toISOString(),
    });
    await source.purge(call.subject);
    await release();
    report.deadLettered++;
    host.deadLettered(callSid, reason, letter);
    return;
  }
  if (dropped > 0) {
    host.logger.warn({ subject: call.subject, dropped }, 'writes after a gap in a journaled call were never acknowledged as durable; not replayed');
  }
  if (contents.writes.length === 0) {
    await source.purge(call.subject);
    await release();
    report.empty++;
    return;
  }
  const buffer = WriteBuffer.restore(contents, source.adopt(call.subject, release), host.operations);
  const outcome = await host.replay(buffer);
  if (outcome.status === 'flushed') report.flushed++;
  else if (outcome.status === 'dead-lettered') report.deadLettered++;
  else report.deferred++;
}

/**
 * A call's messages as a journal text: the header, then its writes by seq
 * (a retried publish stored twice counts once), up to the first gap —
 * writes past a gap were never reported durable (durability is the prefix).
 * @throws {JournalError} a message is not JSON, or there is no header.
 */
function orderedJournal(lines: readonly string[]): { text: string; dropped: number } {
  let header: string | undefined;
  const writes = new Map<number, string>();
  lines.forEach((line, index) => {
    let record: { type?: unknown; seq?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch (error) {
      throw new JournalError(`message ${index + 1} is not JSON`, { cause: error });
    }
    if (record.type === 'call') header ??= line;
    else if (record.type === 'write' && typeof record.seq === 'number') writes.set(record.seq, line);
    else throw new JournalError(`message ${index + 1} is neither a call header nor a write`);
  });
  if (header === undefined) throw new JournalError('no call header (it was never acknowledged)');
  const ordered = [header];
  for (let seq = 1; writes.has(seq); seq++) ordered.push(writes.get(seq)!);
  return { text: `${ordered.map((line) => line.replace(/\n$/, '')).join('\n')}\n`, dropped: writes.size - (ordered.length - 1) };
}
