import { randomUUID } from 'node:crypto';
import type { Counter } from '@opentelemetry/api';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULTS } from '../defaults.js';
import { ConfigError, JournalError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DeadLetter, WrittenDeadLetter } from './dead-letter.js';
import type { RecoveryReport } from './flush-outcome.js';
import { JetStreamCall, type JetStreamCallHost } from './jetstream-call.js';
import { recoverGoneInstances } from './jetstream-recovery.js';
import type { CallJournalHandle, JournalBackend, JournalHealth } from './journal-backend.js';
import type { CallHeader } from './journal-format.js';
import type { JournalRecoveryHost, RecoverableJournal } from './journal-recovery.js';
import { createJournalInstruments } from './journal-metrics.js';
import { maskNatsUrl, parseNatsUrl } from './nats-url.js';

export interface JetStreamJournalOptions {
  /** `JOURNAL_URL`: `nats://[user:pass@|token@]host:port`, several comma-separated (the cluster's servers). Required. */
  url: string;
  /** Replicas of the stream and the KV buckets: 3 in production (a node may die), 1 for a single server. Default 3. */
  replicas?: number;
  /** The stream's name; the buckets are `<stream>_instances` and `<stream>_claims`. Default `LCG_JOURNAL`. */
  stream?: string;
  /** The subjects' prefix (the stream takes `<prefix>.>`). Default `lcg.journal`. */
  subjectPrefix?: string;
  /** How long a write may wait for its acknowledgement, retries included, before it counts as not durable. Default 5 000 ms. */
  ackTimeoutMs?: number;
  /** How long the first connection may take before `connect` refuses. Default 5 000 ms. */
  connectTimeoutMs?: number;
  /** An instance whose heartbeat is older than this is gone; it beats every third of it. Default 15 000 ms. */
  heartbeatTtlMs?: number;
  /** Most bytes the stream holds; past it writes are refused (never old ones dropped). Default 1 GiB. */
  maxBytes?: number;
  /** Most calls open at once. Default 10 000. */
  maxOpenCalls?: number;
  /** This process's name in subjects and the heartbeat bucket ([A-Za-z0-9_-], 1-64). Default a random one per process. */
  instanceId?: string;
  /** Default: nothing logged (failures are counted and shown in `health()`). */
  logger?: Logger;
}

/** How often a failed journal is probed again (by `health()`). */
const REPROBE_INTERVAL_MS = 1000;
/** The longest one publish attempt waits for its acknowledgement; failed attempts are retried within the ack timeout. */
const ATTEMPT_TIMEOUT_MS = 2000;
const RETRY_DELAY_MS = 100;
/** Claims of recovered calls are deleted once landed; a marker (or a claim of a stuck recoverer) expires after this. */
const CLAIM_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The write journal on NATS JetStream: each call is a subject of one
 * stream, `<prefix>.calls.<instance>.<call>`, replicated `replicas` times;
 * a write is durable when JetStream acknowledges it (a quorum of replicas
 * has it), so losing this whole host loses no acknowledged write. Every
 * instance beats a heartbeat into a KV bucket whose max_age is the TTL;
 * recovery claims the calls of instances whose heartbeat expired (a KV
 * compare-and-set claim: one recoverer per call) and lands them through
 * the flusher's idempotent flush. Flushed calls are purged; dead letters
 * are messages of `<prefix>.dead.…` and stay.
 *
 * Create with {@link JetStreamJournal.connect} (it refuses when NATS is
 * unreachable or the stream cannot be made).
 */
export class JetStreamJournal implements JournalBackend, RecoverableJournal {
  /** The URL, credentials masked: safe to log. */
  readonly url: string;
  readonly instanceId: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly replicas: number;
  readonly heartbeatTtlMs: number;
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;
  /** @internal For recovery. */
  readonly instances: KV;
  /** @internal For recovery. */
  readonly claims: KV;
  private readonly ackTimeoutMs: number;
  private readonly maxOpenCalls: number;
  /** @internal */
  readonly logger: Logger | undefined;
  private readonly calls = new Set<JetStreamCall>();
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly callHost: JetStreamCallHost;
  private readonly failuresCounter: Counter;
  private readonly heartbeat: NodeJS.Timeout;
  private callNumber = 0;
  private deadLetterCount: number;
  private failureCount = 0;
  private failure: { reason: string; probedAt: number } | undefined;
  private probing = false;
  private lastBeatAt = Date.now();
  private closing: Promise<void> | undefined;

  /** @internal Use {@link JetStreamJournal.connect}. */
  private constructor(parts: {
    options: Required<Omit<JetStreamJournalOptions, 'logger'>> & { logger: Logger | undefined };
    nc: NatsConnection;
    js: JetStreamClient;
    jsm: JetStreamManager;
    instances: KV;
    claims: KV;
    deadLetters: number;
  }) {
    const { options } = parts;
    this.url = maskNatsUrl(options.url);
    this.instanceId = options.instanceId;
    this.stream = options.stream;
    this.subjectPrefix = options.subjectPrefix;
    this.replicas = options.replicas;
    this.heartbeatTtlMs = options.heartbeatTtlMs;
    this.ackTimeoutMs = options.ackTimeoutMs;
    this.maxOpenCalls = options.maxOpenCalls;
    this.logger = options.logger;
    this.nc = parts.nc;
    this.js = parts.js;
    this.jsm = parts.jsm;
    this.instances = parts.instances;
    this.claims = parts.claims;
    this.deadLetterCount = parts.deadLetters;
    const instruments = createJournalInstruments('jetstream');
    this.failuresCounter = instruments.failures;
    this.callHost = {
      publish: (subject, line, msgID) => this.publish(subject, line, msgID),
      enqueued: instruments.enqueued,
      purge: async (subject) => {
        await this.jsm.streams.purge(this.stream, { filter: subject });
      },
      release: (call) => this.calls.delete(call),
      track: (task, what) => this.track(task, what),
    };
    this.heartbeat = setInterval(() => this.beat(), Math.max(100, Math.floor(this.heartbeatTtlMs / 3)));
    this.heartbeat.unref();
    this.watchConnection();
  }

  /**
   * Connects, makes (or opens) the stream and the two buckets, beats the
   * first heartbeat and checks that a write is acknowledged.
   * @throws {ConfigError} a bad option, or the NATS client packages are not installed.
   * @throws {JournalError} NATS is unreachable (the masked URL named), has no JetStream, or cannot
   *   make the stream with `replicas` (fewer servers than replicas).
   */
  static async connect(options: JetStreamJournalOptions): Promise<JetStreamJournal> {
    const resolved = resolveOptions(options);
    const masked = maskNatsUrl(resolved.url);
    const { servers, ...credentials } = parseNatsUrl(resolved.url);
    const [{ connect }, { jetstream, jetstreamManager }, { Kvm }] = await Promise.all([
      import('@nats-io/transport-node'),
      import('@nats-io/jetstream'),
      import('@nats-io/kv'),
    ]).catch((error: unknown) => {
      throw new ConfigError('JOURNAL_URL needs the NATS client: npm install @nats-io/transport-node @nats-io/jetstream @nats-io/kv', { cause: error });
    });
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers,
        ...credentials,
        name: `live-call-guard ${resolved.instanceId}`,
        timeout: resolved.connectTimeoutMs,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
    } catch (error) {
      throw new JournalError(`JOURNAL_URL ${masked} is unreachable: ${(error as Error).message}`, { cause: error });
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: resolved.ackTimeoutMs });
      const js = jetstream(nc, { timeout: resolved.ackTimeoutMs });
      await ensureStream(jsm, resolved, resolved.logger);
      const kvm = new Kvm(js);
      const bucket = { replicas: resolved.replicas, history: 1 };
      const instances = await kvm.create(`${resolved.stream}_instances`, { ...bucket, ttl: resolved.heartbeatTtlMs });
      const claims = await kvm.create(`${resolved.stream}_claims`, { ...bucket, ttl: CLAIM_MAX_AGE_MS });
      await instances.put(resolved.instanceId, String(Date.now()));
      const dead = await jsm.streams.info(resolved.stream, { subjects_filter: `${resolved.subjectPrefix}.dead.>` });
      const journal = new JetStreamJournal({ options: resolved, nc, js, jsm, instances, claims, deadLetters: Object.keys(dead.state.subjects ?? {}).length });
      await journal.probe();
      return journal;
    } catch (error) {
      await nc.close().catch(() => {});
      if (error instanceof JournalError || error instanceof ConfigError) throw error;
      throw new JournalError(`JOURNAL_URL ${masked}: JetStream cannot keep writes: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Opens a call's subject and publishes its header.
   * @throws {JournalError} the journal is closed or failed (new calls are refused), or too many calls are open.
   */
  openCall(header: CallHeader): CallJournalHandle {
    if (this.closing) throw new JournalError('the journal is closed');
    if (this.failure) throw new JournalError(`the JetStream journal cannot keep writes (${this.failure.reason}); call ${header.callSid} is not journaled`);
    if (this.calls.size >= this.maxOpenCalls) {
      throw new JournalError(`the journal has ${this.calls.size} calls open (maxOpenCalls); call ${header.callSid} is not journaled`);
    }
    const token = `${Buffer.from(header.callSid).toString('base64url')}-${++this.callNumber}`;
    const call = new JetStreamCall(this.callHost, `${this.subjectPrefix}.calls.${this.instanceId}.${token}`, header);
    this.calls.add(call);
    return call;
  }

  /**
   * Whether the journal takes writes now. After a failure (a write not
   * acknowledged in time, the connection or a heartbeat lost) it is
   * unwritable until a probe (started here, at most once a second) is
   * acknowledged again.
   */
  health(): JournalHealth {
    if (this.failure && !this.probing && !this.closing && Date.now() - this.failure.probedAt >= REPROBE_INTERVAL_MS) {
      this.probing = true;
      this.track(
        this.probe()
          .then(() => {
            this.logger?.info({ url: this.url }, 'the JetStream journal takes writes again');
            this.failure = undefined;
          })
          .catch((error: unknown) => {
            this.failure = { reason: (error as Error).message, probedAt: Date.now() };
          })
          .finally(() => (this.probing = false)),
        'probing the journal',
      );
    }
    return this.failure
      ? { writable: false, reason: this.failure.reason, failures: this.failureCount }
      : { writable: true, failures: this.failureCount };
  }

  /** @internal Called by WriteBuffer when a write was not acknowledged. */
  reportAppendFailure(callSid: string, error: unknown): void {
    this.fail(`a write of call ${callSid} was not acknowledged: ${(error as Error).message}`);
  }

  get openCalls(): number {
    return this.calls.size;
  }

  /**
   * Publishes a dead letter to `<prefix>.dead.<name>` (kept until an operator
   * removes it), once: its name is its message id, so the same letter
   * published again within the stream's duplicate window is not kept twice.
   * @returns `<stream>:<subject>`, and whether it was written now.
   * @throws {JournalError} it was not acknowledged (the call's messages stay).
   */
  async writeDeadLetter(name: string, letter: DeadLetter): Promise<WrittenDeadLetter> {
    const subject = `${this.subjectPrefix}.dead.${Buffer.from(name).toString('base64url')}`;
    let duplicate: boolean;
    try {
      ({ duplicate } = await this.js.publish(subject, JSON.stringify(letter), { timeout: this.ackTimeoutMs, msgID: `dead.${name}` }));
    } catch (error) {
      throw new JournalError(`writing dead letter ${subject} failed: ${(error as Error).message}`, { cause: error });
    }
    if (!duplicate) this.deadLetterCount++;
    return { file: `${this.stream}:${subject}`, written: !duplicate };
  }

  countDeadLetters(): number {
    return this.deadLetterCount;
  }

  /** The dead letters in the stream (every instance's), oldest first. */
  async deadLetters(): Promise<DeadLetter[]> {
    const lines = await this.read(`${this.subjectPrefix}.dead.>`);
    return lines.map((line) => JSON.parse(line) as DeadLetter);
  }

  /** One recovery pass over the calls of instances whose heartbeat expired (see jetstream-recovery.ts). */
  recover(host: JournalRecoveryHost): Promise<RecoveryReport> {
    return recoverGoneInstances(this, host);
  }

  /** @internal The calls in the stream (subject → messages), every instance's. */
  async callSubjects(): Promise<Record<string, number>> {
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: `${this.subjectPrefix}.calls.>` });
    return info.state.subjects ?? {};
  }

  /** @internal The messages of a subject (or wildcard), in stream order, as text. */
  async read(filter: string, expected?: number): Promise<string[]> {
    const count = expected ?? Object.values((await this.jsm.streams.info(this.stream, { subjects_filter: filter })).state.subjects ?? {}).reduce((a, b) => a + b, 0);
    if (count === 0) return [];
    const consumer = await this.js.consumers.get(this.stream, { filter_subjects: filter });
    const lines: string[] = [];
    try {
      const messages = await consumer.fetch({ max_messages: count, expires: this.ackTimeoutMs });
      for await (const message of messages) {
        lines.push(message.string());
        if (lines.length >= count) break;
      }
    } finally {
      await consumer.delete().catch(() => false);
    }
    return lines;
  }

  /** @internal A call recovery claimed: its buffer's flush purges it, then `onFinished` releases the claim. */
  adopt(subject: string, onFinished: () => Promise<void>): JetStreamCall {
    return new JetStreamCall(this.callHost, subject, undefined, onFinished);
  }

  /** @internal Purges a subject. */
  purge(subject: string): Promise<void> {
    return this.callHost.purge(subject);
  }

  /**
   * Stops the heartbeat, waits for publishes and purges under way (each
   * bounded by the ack timeout), deletes this instance's heartbeat (its
   * calls not yet landed are recovered by another instance at once) and
   * closes the connection. Runs once.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      for (const call of [...this.calls]) call.close();
      await Promise.allSettled([...this.tasks]);
      await this.instances.delete(this.instanceId).catch(() => {});
      await this.nc.close().catch(() => {});
    })();
    return this.closing;
  }

  /** Publishes one message, retrying until acknowledged or `ackTimeoutMs` is spent. False (and the journal failed) when not. */
  private async publish(subject: string, line: string, msgID: string): Promise<boolean> {
    try {
      await this.publishWithRetries(subject, line, msgID);
      return true;
    } catch (error) {
      this.fail(`a publish to ${subject} was not acknowledged within ${this.ackTimeoutMs} ms: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * Publishes until acknowledged: a leader election answers "no responders"
   * or times out for a moment, so failed attempts are retried (the message
   * id makes a retry of a stored message a duplicate) until `ackTimeoutMs`.
   * @throws the last attempt's error.
   */
  private async publishWithRetries(subject: string, line: string, msgID: string): Promise<void> {
    const deadline = Date.now() + this.ackTimeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      try {
        await this.js.publish(subject, line, { msgID, timeout: Math.max(100, Math.min(remaining, ATTEMPT_TIMEOUT_MS)) });
        return;
      } catch (error) {
        if (this.nc.isClosed() || Date.now() + RETRY_DELAY_MS >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS).unref());
      }
    }
  }

  /** Publishes to this instance's probe subject (with retries) and purges it; rejects when not acknowledged. */
  private async probe(): Promise<void> {
    const subject = `${this.subjectPrefix}.probe.${this.instanceId}`;
    await this.publishWithRetries(subject, 'probe', `${subject}:${randomUUID()}`);
    await this.jsm.streams.purge(this.stream, { filter: subject });
  }

  /** One heartbeat. A missed one degrades health only once none was acknowledged for half the TTL (an election is not an outage). */
  private beat(): void {
    this.track(
      this.instances.put(this.instanceId, String(Date.now())).then(
        () => {
          this.lastBeatAt = Date.now();
        },
        (error: unknown) => {
          if (Date.now() - this.lastBeatAt > this.heartbeatTtlMs / 2) this.fail(`no heartbeat was acknowledged for ${Date.now() - this.lastBeatAt} ms: ${(error as Error).message}`);
        },
      ),
      'heartbeat',
    );
  }

  private watchConnection(): void {
    const watch = async () => {
      for await (const status of this.nc.status()) {
        // The client reconnects to another server by itself: a failure only if a write cannot get through.
        if (status.type === 'disconnect' && !this.closing) {
          this.track(
            this.probe().catch((error: unknown) => this.fail(`the connection to ${this.url} was lost: ${(error as Error).message}`)),
            'probing after a disconnect',
          );
        }
      }
    };
    watch().catch((error: unknown) => this.logger?.error({ err: error }, 'watching the NATS connection failed'));
  }

  private fail(reason: string): void {
    this.failureCount++;
    this.failuresCounter.add(1);
    if (!this.failure) this.logger?.error({ url: this.url, reason }, 'the JetStream journal cannot keep writes: new calls are refused');
    this.failure = { reason, probedAt: Date.now() };
  }

  private track(task: Promise<unknown>, what: string): void {
    const owned = task.catch((error: unknown) => this.logger?.warn({ err: error, url: this.url }, `${what} failed`));
    this.tasks.add(owned);
    // `owned` never rejects (caught above), so neither does its finally.
    void owned.finally(() => this.tasks.delete(owned));
  }
}

type ResolvedOptions = Required<Omit<JetStreamJournalOptions, 'logger'>> & { logger: Logger | undefined };

function resolveOptions(options: JetStreamJournalOptions): ResolvedOptions {
  const positive = (name: string, value: number): number => {
    if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`JetStreamJournal ${name} must be a positive integer (received ${JSON.stringify(value)})`);
    return value;
  };
  const token = (name: string, value: string, pattern: RegExp): string => {
    if (typeof value !== 'string' || !pattern.test(value)) throw new ConfigError(`JetStreamJournal ${name} must match ${pattern} (received ${JSON.stringify(value)})`);
    return value;
  };
  const replicas = options.replicas ?? DEFAULTS.jetstreamReplicas;
  if (![1, 3, 5].includes(replicas)) throw new ConfigError(`JetStreamJournal replicas must be 1, 3 or 5 (received ${JSON.stringify(options.replicas)})`);
  parseNatsUrl(options.url);
  return {
    url: options.url,
    replicas,
    stream: token('stream', options.stream ?? DEFAULTS.jetstreamStream, /^[A-Za-z0-9_-]{1,32}$/),
    subjectPrefix: token('subjectPrefix', options.subjectPrefix ?? DEFAULTS.jetstreamSubjectPrefix, /^[A-Za-z0-9_-]{1,32}(\.[A-Za-z0-9_-]{1,32}){0,3}$/),
    ackTimeoutMs: positive('ackTimeoutMs', options.ackTimeoutMs ?? DEFAULTS.jetstreamAckTimeoutMs),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULTS.jetstreamConnectTimeoutMs),
    heartbeatTtlMs: positive('heartbeatTtlMs', options.heartbeatTtlMs ?? DEFAULTS.jetstreamHeartbeatTtlMs),
    maxBytes: positive('maxBytes', options.maxBytes ?? DEFAULTS.jetstreamMaxBytes),
    maxOpenCalls: positive('maxOpenCalls', options.maxOpenCalls ?? DEFAULTS.journalMaxOpenCalls),
    instanceId: token('instanceId', options.instanceId ?? randomUUID().replaceAll('-', ''), TOKEN),
    logger: options.logger,
  };
}

/** Makes the stream, or checks the one there: it must take the prefix's subjects; other replicas are logged. */
async function ensureStream(jsm: JetStreamManager, options: ResolvedOptions, logger: Logger | undefined): Promise<void> {
  const subjects = [`${options.subjectPrefix}.>`];
  let existing;
  try {
    existing = await jsm.streams.info(options.stream);
  } catch (error) {
    if (!/stream not found/i.test((error as Error).message)) throw error;
  }
  if (existing) {
    if (!existing.config.subjects?.includes(subjects[0]!)) {
      throw new JournalError(`stream ${options.stream} exists with subjects ${JSON.stringify(existing.config.subjects)}, not ${subjects[0]}`);
    }
    if (existing.config.num_replicas !== options.replicas) {
      logger?.warn({ stream: options.stream, replicas: existing.config.num_replicas, wanted: options.replicas }, 'the journal stream exists with other replicas; kept as it is');
    }
    return;
  }
  try {
    await jsm.streams.add({
      name: options.stream,
      subjects,
      storage: 'file',
      retention: 'limits',
      discard: 'new',
      max_bytes: options.maxBytes,
      num_replicas: options.replicas,
    });
  } catch (error) {
    const hint = /insufficient resources|no suitable peers|replicas/i.test((error as Error).message)
      ? ` (replicas ${options.replicas} needs as many JetStream servers; use replicas 1 for a single server)`
      : '';
    throw new JournalError(`cannot make the journal stream ${options.stream}${hint}: ${(error as Error).message}`, { cause: error });
  }
}
