import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { createStreamToken } from '../../../src/twilio/stream-token.js';
import { createKnex } from '../../../reference/db/knex.js';
import { DEMO_NUMBERS } from '../../../reference/db/seed.js';
import { TwilioStreamClient } from '../../../src/testing/twilio-stream-client.js';
import { postTwiml, runCall, type CallPlan, type CallRecord, type WriteDigit } from './call-script.js';
import { FUZZ_CORPUS, type FuzzCase, type FuzzFrame } from './fuzz-corpus.js';
import { JournalFill } from './journal-fill.js';
import { Prng } from './prng.js';
import { ServerProcess, type UnexpectedExit } from './server-process.js';
import { TcpProxy } from './tcp-proxy.js';

export interface ChaosFaults {
  /** SIGKILL the server at a random point of a round (mid-call, mid-flush), restart it on the same journal. */
  kill: boolean;
  /** Cut the database (every connection reset, new ones refused) for a while, then restore it. */
  dbCut: boolean;
  /** Fill the journal's tmpfs to the last page (before the calls start, or mid-call), then empty it. Needs root for mount. */
  journalFill: boolean;
  /** Send the fuzz corpus on other sockets beside a well-behaved neighbour call. */
  fuzz: boolean;
}

export interface ChaosOptions {
  /** A PostgreSQL database of the run's own (the server migrates and seeds it); the proxy goes in front of it. */
  databaseUrl: string;
  /** Default 1. The same seed gives the same fault schedule. */
  seed?: number;
  /** Default 5. */
  rounds?: number;
  /** No round starts after this much time. Default 10 minutes. */
  maxDurationMs?: number;
  /** Default: every fault on. */
  faults?: Partial<ChaosFaults>;
  /** After each enabled fault had a round of its own: the chance each strikes in a round. Default 0.5. */
  faultChance?: number;
  /** Well-behaved calls per round. Default 3. */
  callsPerRound?: number;
  /** Where the journal and scratch files go. Default a fresh temp directory, removed at the end. */
  workDir?: string;
  /** How long a digit waits for its mark before it counts as unanswered. Default 5000 ms. */
  ackTimeoutMs?: number;
  /** How long a call's socket may take to close after stop. Default 30 000 ms. */
  closeTimeoutMs?: number;
  /** How long to wait for the journal to drain (no live call, no pending flush, no *.journal file). Default 30 000 ms. */
  drainTimeoutMs?: number;
  /** tmpfs size of the journal for the fill fault. Default `1m`. */
  journalTmpfsSize?: string;
  /** Fuzz cases per fuzz round (a seeded sample). Default: the whole corpus. */
  fuzzCasesPerRound?: number;
  /** Progress lines. Default: silent. */
  log?: (line: string) => void;
}

export interface ChaosSummary {
  readonly seed: number;
  rounds: number;
  durationMs: number;
  kills: number;
  dbCuts: number;
  journalFills: number;
  /** Why the journal fill fault was skipped (no root, not Linux), if it was. */
  journalFillSkipped: string | undefined;
  fuzzCases: number;
  fuzzMessages: number;
  calls: { placed: number; completed: number };
  acknowledged: { durable: number; volatile: number };
  landed: { durable: number; volatile: number };
  lost: { durable: number; volatile: number; volatileToKills: number };
  duplicated: number;
  /** Digits that got no mark while the call stayed up: the caller heard nothing. */
  unanswered: number;
  /** Calls whose socket did not close within closeTimeoutMs of their end. */
  hung: number;
  unexpectedCrashes: UnexpectedExit[];
  neighbours: { checked: number; failed: string[] };
  /** Calls and fuzz cases the webhook turned away cleanly (busy, sorry) during a fault. */
  refused: number;
  /** Rounds after which the journal did not drain in time. */
  journalNotDrained: number;
  deadLetters: number;
  /** Everything that makes the run fail; empty when it passed. */
  failures: string[];
}

const ALL_FAULTS: ChaosFaults = { kill: true, dbCut: true, journalFill: true, fuzz: true };
const FAULT_NAMES = ['kill', 'dbCut', 'journalFill', 'fuzz'] as const;
type FaultName = (typeof FAULT_NAMES)[number];
const STREAM_SECRET = 'chaos-stream-secret-0123456789';
const LEAD_NAME = 'Alex Rivera'; // what the receptionist "hears" on 3

interface TrackedCall {
  record: CallRecord;
  round: number;
  deathsAtStart: number;
  /** Our kills when the call started. */
  killsAtStart: number;
  /** Server deaths (our kills, crashes) by the time its round was quiet again. */
  deathsByQuiet: number;
  neighbour: boolean;
}

/**
 * The chaos runner: the real server as a child process behind a database
 * proxy, live calls with buffered writes, and per round a seeded choice of
 * faults. After the last round and a final recovery it counts, per call,
 * the rows that landed against the writes the caller was told about.
 */
export class ChaosRun {
  private readonly options: Required<Omit<ChaosOptions, 'workDir' | 'faults' | 'log'>> & { faults: ChaosFaults };
  private readonly rng: Prng;
  private readonly log: (line: string) => void;
  private readonly runId = randomBytes(3).toString('hex');
  private readonly calls: TrackedCall[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly summary: ChaosSummary;
  private workDir = '';
  private ownWorkDir = false;
  private journalDir = '';
  private proxy: TcpProxy | undefined;
  private fill: JournalFill | undefined;
  private server: ServerProcess | undefined;
  private knex: Knex | undefined;
  private businessId = 0;
  private deaths = 0;
  private phoneCounter = 0;
  private fillRounds = 0;

  constructor(options: ChaosOptions & { workDir?: string }) {
    const faults = { ...ALL_FAULTS, ...options.faults };
    this.options = {
      databaseUrl: options.databaseUrl,
      seed: options.seed ?? 1,
      rounds: options.rounds ?? 5,
      maxDurationMs: options.maxDurationMs ?? 10 * 60_000,
      faults,
      faultChance: options.faultChance ?? 0.5,
      callsPerRound: options.callsPerRound ?? 3,
      ackTimeoutMs: options.ackTimeoutMs ?? 5000,
      closeTimeoutMs: options.closeTimeoutMs ?? 30_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
      journalTmpfsSize: options.journalTmpfsSize ?? '1m',
      fuzzCasesPerRound: options.fuzzCasesPerRound ?? FUZZ_CORPUS.length,
    };
    for (const [name, value] of Object.entries({ rounds: this.options.rounds, callsPerRound: this.options.callsPerRound })) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`ChaosRun ${name} must be a positive integer (received ${JSON.stringify(value)})`);
    }
    if (options.workDir) this.workDir = options.workDir;
    this.rng = new Prng(this.options.seed);
    this.log = options.log ?? (() => {});
    this.summary = {
      seed: this.options.seed,
      rounds: 0,
      durationMs: 0,
      kills: 0,
      dbCuts: 0,
      journalFills: 0,
      journalFillSkipped: undefined,
      fuzzCases: 0,
      fuzzMessages: 0,
      calls: { placed: 0, completed: 0 },
      acknowledged: { durable: 0, volatile: 0 },
      landed: { durable: 0, volatile: 0 },
      lost: { durable: 0, volatile: 0, volatileToKills: 0 },
      duplicated: 0,
      unanswered: 0,
      hung: 0,
      unexpectedCrashes: [],
      neighbours: { checked: 0, failed: [] },
      refused: 0,
      journalNotDrained: 0,
      deadLetters: 0,
      failures: [],
    };
  }

  /** Runs every round, the final recovery and the count; always cleans up (server, proxy, mount, temp files). */
  async run(): Promise<ChaosSummary> {
    const startedAt = Date.now();
    try {
      await this.setUp();
      for (let round = 0; round < this.options.rounds; round += 1) {
        if (Date.now() - startedAt > this.options.maxDurationMs) {
          this.log(`time is up after ${round} rounds`);
          break;
        }
        await this.round(round);
        this.summary.rounds = round + 1;
      }
      await this.finalRecovery();
      await this.count();
    } catch (error) {
      this.summary.failures.push(`the harness stopped: ${(error as Error).message}`);
    } finally {
      await this.tearDown();
      this.summary.durationMs = Date.now() - startedAt;
    }
    this.judge();
    return this.summary;
  }

  /**
   * For a signal handler: SIGKILLs the server, unmounts the tmpfs and
   * removes the temp files now, synchronously. The run's database stays.
   */
  cleanUpNow(): void {
    this.server?.kill();
    this.fill?.unmountNow();
    if (this.ownWorkDir && this.workDir) fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  private async setUp(): Promise<void> {
    if (!this.workDir) {
      this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcg-chaos-'));
      this.ownWorkDir = true;
    }
    this.journalDir = path.join(this.workDir, 'journal');
    fs.mkdirSync(this.journalDir, { recursive: true });
    if (this.options.faults.journalFill) {
      const fill = new JournalFill(this.journalDir, this.options.journalTmpfsSize);
      const why = await fill.mount();
      if (why) {
        this.summary.journalFillSkipped = why;
        this.log(`journal fill fault SKIPPED: ${why}`);
      } else {
        this.fill = fill;
      }
    }
    const target = new URL(this.options.databaseUrl);
    this.proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    this.knex = createKnex(this.options.databaseUrl, { poolMax: 2 });
    this.server = new ServerProcess({
      env: {
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: TcpProxy.rewrite(this.options.databaseUrl, this.proxy),
        JOURNAL_DIR: this.journalDir,
        DRAIN_TIMEOUT_S: '1',
        CALL_STREAM_SECRET: STREAM_SECRET,
        TWILIO_AUTH_TOKEN: '',
        PUBLIC_URL: '',
        LIVE_CALL_TRACE_FILE: '',
      },
    });
    await this.ensureServer();
    const business = (await this.knex('businesses').where({ phone_number: DEMO_NUMBERS.dental }).first('id')) as { id: number } | undefined;
    if (!business) throw new Error('the demo business is missing after the server seeded the database');
    this.businessId = business.id;
  }

  private async tearDown(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.server?.stop();
    await this.proxy?.close();
    this.summary.unexpectedCrashes = [...(this.server?.crashes ?? [])];
    if (this.journalDir) this.summary.deadLetters = countFiles(path.join(this.journalDir, 'dead-letter'));
    await this.fill?.unmount();
    await this.knex?.destroy();
    if (this.ownWorkDir) fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Starts the server if it is not running (after a kill or a crash): its journal recovery runs before it listens. */
  private async ensureServer(): Promise<string> {
    const server = this.server!;
    if (server.alive) return server.url;
    await server.exited();
    this.proxy!.restore();
    this.fill?.empty();
    return server.start();
  }

  private faultsOf(round: number): Set<FaultName> {
    const enabled = FAULT_NAMES.filter((name) => this.options.faults[name] && !(name === 'journalFill' && !this.fill));
    const chosen = new Set<FaultName>();
    // Each enabled fault has a round of its own first, then they mix.
    if (round < enabled.length) chosen.add(enabled[round]!);
    else for (const name of enabled) if (this.rng.chance(this.options.faultChance)) chosen.add(name);
    return chosen;
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** Clears the round's pending fault timers, running the restores they would have run. */
  private settleFaults(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.proxy!.restore();
    this.fill?.empty();
  }

  private kill(where: string): void {
    if (this.server!.kill()) {
      this.summary.kills += 1;
      this.deaths += 1;
      this.log(`  SIGKILL ${where}`);
    }
  }

  private async round(round: number): Promise<void> {
    const url = await this.ensureServer();
    const faults = this.faultsOf(round);
    const rng = this.rng;
    this.log(`round ${round + 1}: ${[...faults].join(', ') || 'no fault'}`);

    // The first fill strikes mid-call, the second before the calls start, then the seed chooses.
    const fillRounds = this.fillRounds;
    if (faults.has('journalFill')) this.fillRounds += 1;
    const fillMidCall = faults.has('journalFill') && (fillRounds === 0 ? true : fillRounds === 1 ? false : rng.chance(0.6));
    const plans: CallPlan[] = [];
    let fuzzDone: Promise<void> = Promise.resolve();
    let releaseFuzz!: () => void;
    const neighbourGreeted = new Promise<void>((resolve) => (releaseFuzz = resolve));
    for (let i = 0; i < this.options.callsPerRound; i += 1) {
      const withLead = rng.chance(0.5);
      const from = this.nextPhone();
      const leadId = withLead ? await this.createLead(from) : null;
      const digits: WriteDigit[] = [];
      // A mid-call fill needs a call that writes past its file's last page.
      const count = fillMidCall ? rng.int(30, 40) : rng.int(1, 6);
      for (let d = 0; d < count; d += 1) digits.push(fillMidCall ? '1' : rng.pick(['1', '1', '2', '3'] as const));
      if (!fillMidCall && i === 0) digits.push('2', '3');
      const neighbour = i === 0 && faults.has('fuzz');
      plans.push({
        callSid: `CAchaos${this.runId}r${round}c${i}`,
        from,
        leadId,
        digits,
        end: neighbour || rng.chance(0.7) ? 'stop' : 'hangup',
        ...(neighbour ? { gate: (fuzzDone = neighbourGreeted.then(() => this.fuzz(url))) } : {}),
      });
    }

    const killsBefore = this.summary.kills;
    const expectedEvents = plans.reduce((sum, plan) => sum + plan.digits.length + 2, 0);
    const killAt = faults.has('kill') ? rng.int(1, expectedEvents + 1) : -1;
    const killDelayMs = rng.chance(0.5) ? 0 : rng.int(1, 40);
    const cutAt = faults.has('dbCut') ? rng.int(1, expectedEvents) : -1;
    const cutForMs = rng.int(300, 2500);
    // Mid-call: once every call has its journal file open (greeted), so the appends are what fails.
    const fillAt = fillMidCall ? this.options.callsPerRound : faults.has('journalFill') ? 0 : -1;
    let greetings = 0;
    const fillForMs = rng.int(500, 3000);
    let events = 0;
    let killed = false;

    const strikeFill = (): void => {
      this.fill!.fill();
      this.summary.journalFills += 1;
      this.log(`  journal full (${fillAt === 0 ? 'before the calls' : 'mid-call'}) for ${fillForMs} ms`);
      this.later(fillForMs, () => this.fill?.empty());
    };
    if (fillAt === 0) strikeFill();

    const onEvent = (event: 'greeting' | 'ack' | 'ended', record: CallRecord): void => {
      events += 1;
      if (record.plan === plans[0] && event === 'greeting') releaseFuzz();
      if (events === killAt) {
        killed = true;
        const where = `after event ${events} (${event} of ${record.plan.callSid})${killDelayMs ? ` + ${killDelayMs} ms` : ''}`;
        if (killDelayMs) this.later(killDelayMs, () => this.kill(where));
        else this.kill(where);
      }
      if (events === cutAt) {
        this.proxy!.cutOff();
        this.summary.dbCuts += 1;
        this.log(`  database cut after event ${events} for ${cutForMs} ms`);
        this.later(cutForMs, () => this.proxy!.restore());
      }
      if (event === 'greeting' && (greetings += 1) === fillAt) strikeFill();
    };

    const tracked = plans.map((plan, i): Promise<TrackedCall> => {
      const deathsAtStart = this.deaths + this.server!.crashes.length;
      const killsAtStart = this.deaths;
      return runCall(url, plan, { ackTimeoutMs: this.options.ackTimeoutMs, closeTimeoutMs: this.options.closeTimeoutMs, onEvent }).then(
        (record) => ({ record, round, deathsAtStart, killsAtStart, deathsByQuiet: 0, neighbour: i === 0 && faults.has('fuzz') }),
      );
    });
    // The neighbour may never greet (the server died first): the fuzz then runs anyway, against whatever answers.
    const results = await Promise.all(tracked);
    releaseFuzz();
    await fuzzDone;
    this.settleFaults();
    // A kill the round did not reach (or whose delay it outlived) strikes between calls.
    if (faults.has('kill') && (!killed || this.summary.kills === killsBefore)) this.kill('between calls (after the round)');
    await this.ensureServer();
    await this.waitQuiet(round);
    for (const call of results) call.deathsByQuiet = this.deaths + this.server!.crashes.length;
    this.calls.push(...results);
    for (const { record, neighbour, killsAtStart } of results) {
      if (neighbour) this.checkNeighbour(record, killsAtStart !== this.deaths);
    }
  }

  /** Waits (polling, bounded) until no call is live, no flush is pending, and no *.journal file is left. */
  private async waitQuiet(round: number): Promise<boolean> {
    const deadline = Date.now() + this.options.drainTimeoutMs;
    for (;;) {
      const quiet = (await this.serverIsQuiet()) && journalFiles(this.journalDir).length === 0;
      if (quiet) return true;
      if (Date.now() > deadline) {
        this.summary.journalNotDrained += 1;
        this.log(`  round ${round + 1}: the journal did not drain within ${this.options.drainTimeoutMs} ms: ${journalFiles(this.journalDir).join(', ')}`);
        return false;
      }
      if (!this.server!.alive) await this.ensureServer();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async serverIsQuiet(): Promise<boolean> {
    try {
      const response = await fetch(`${this.server!.url}/readyz`);
      const body = (await response.json()) as { journal?: { pending?: number }; calls?: { sessions?: number; liveCalls?: number } };
      return (body.journal?.pending ?? 0) === 0 && (body.calls?.sessions ?? body.calls?.liveCalls ?? 0) === 0;
    } catch {
      return false;
    }
  }

  /** Kills the server once more when all is quiet and restarts it on the same journal: a last recovery pass. */
  private async finalRecovery(): Promise<void> {
    this.log('final recovery: SIGKILL, restart on the same journal');
    this.server!.kill();
    await this.server!.exited();
    await this.ensureServer();
    await this.waitQuiet(this.summary.rounds);
  }

  private checkNeighbour(record: CallRecord, killedMeanwhile: boolean): void {
    if (killedMeanwhile) return; // our own kill ended it: nothing to judge
    // Turned away cleanly during a fault: busy or sorry from the webhook, or 1013
    // (try again later: the journal could not take the call) before any greeting.
    if (record.refused || (record.closed?.code === 1013 && !record.greeting)) {
      this.summary.refused += record.refused ? 0 : 1;
      return;
    }
    this.summary.neighbours.checked += 1;
    const problems: string[] = [];
    if (!record.placed) problems.push(record.error ?? 'not placed');
    if (record.closed?.code !== 1000) problems.push(`closed ${record.closed?.code ?? '?'} ${record.closed?.reason ?? ''}`.trim());
    if (record.placed && record.answered < record.plan.digits.length) {
      problems.push(`${record.answered} of ${record.plan.digits.length} digits answered`);
    }
    if (record.hung) problems.push('hung after stop');
    if (problems.length > 0) this.summary.neighbours.failed.push(`${record.plan.callSid}: ${problems.join('; ')}`);
  }

  /** The fuzz corpus (or a seeded sample), one socket per case, beside the neighbour call. */
  private async fuzz(url: string): Promise<void> {
    const cases = this.rng.sample(FUZZ_CORPUS, this.options.fuzzCasesPerRound);
    this.log(`  fuzz: ${cases.length} cases`);
    for (const fuzzCase of cases) {
      if (!this.server!.alive) {
        this.log(`  fuzz stopped: the server is down (before "${fuzzCase.name}")`);
        return;
      }
      try {
        await this.fuzzOne(url, fuzzCase);
      } catch (error) {
        this.log(`  fuzz "${fuzzCase.name}": ${(error as Error).message}`);
      }
    }
  }

  private async fuzzOne(url: string, fuzzCase: FuzzCase): Promise<void> {
    const callSid = `CAfuzz${this.runId}${(this.phoneCounter += 1)}`;
    const streamSid = `MZ${callSid.slice(2)}`;
    const answer = await postTwiml(url, { CallSid: callSid, To: DEMO_NUMBERS.dental, From: this.nextPhone() });
    if ('refused' in answer) {
      this.summary.refused += 1;
      return;
    }
    const stream = answer.stream;
    const client = await TwilioStreamClient.connect(stream.url, { answerMarks: false });
    const outcome = client.closed.then(() => 'closed');
    try {
      client.connected();
      if (fuzzCase.stage === 'live') {
        client.start({ callSid, streamSid, customParameters: stream.parameters });
        await this.settle(client, outcome, 'greeting');
      }
      const frames = fuzzCase.frames({
        callSid,
        streamSid,
        parameters: stream.parameters,
        sign: (claims) => createStreamToken(STREAM_SECRET, claims, 300),
      });
      this.summary.fuzzCases += 1;
      for (const frame of frames) {
        if (client.socket.readyState !== client.socket.OPEN) break;
        sendFrame(client, frame);
        this.summary.fuzzMessages += 1;
      }
      await this.settle(client, outcome, fuzzCase.stage === 'start' ? 'greeting' : 'pong');
    } finally {
      if (client.socket.readyState === client.socket.OPEN) client.close();
      await this.settle(client, outcome, 'closed');
      client.socket.terminate();
      await client.closed;
    }
  }

  /**
   * Waits until the server has dealt with what was sent: it closed the
   * socket, or greeted (a start it accepted), or answered a ping sent after
   * the frames (ws handles frames in order). Bounded by ackTimeoutMs.
   */
  private async settle(client: TwilioStreamClient, closed: Promise<string>, what: 'greeting' | 'pong' | 'closed'): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waits: Array<Promise<unknown>> = [closed, new Promise((resolve) => (timer = setTimeout(resolve, this.options.ackTimeoutMs)))];
    if (what === 'greeting') {
      const greeted = client.waitFor((m) => m.event === 'mark');
      greeted.catch(() => undefined);
      waits.push(greeted);
    }
    if (what === 'pong' && client.socket.readyState === client.socket.OPEN) {
      waits.push(new Promise((resolve) => client.socket.once('pong', resolve)));
      client.socket.ping();
    }
    try {
      await Promise.race(waits);
    } finally {
      clearTimeout(timer);
    }
  }

  private nextPhone(): string {
    this.phoneCounter += 1;
    return `+1-chaos-${this.runId}-${this.phoneCounter}`;
  }

  private async createLead(phone: string): Promise<number> {
    const [row] = (await this.knex!('leads')
      .insert({ tenant_id: this.businessId, full_name: 'Chaos Caller', phone })
      .returning('id')) as Array<{ id: number }>;
    return row!.id;
  }

  /** Rows per call against what each caller was told. */
  private async count(): Promise<void> {
    const knex = this.knex!;
    const s = this.summary;
    for (const { record, deathsAtStart, deathsByQuiet } of this.calls) {
      if (record.refused) s.refused += 1;
      if (!record.placed) continue;
      s.calls.placed += 1;
      if (record.closed?.code === 1000 && !record.hung) s.calls.completed += 1;
      s.unanswered += record.unanswered;
      if (record.hung) s.hung += 1;
      const sid = record.plan.callSid;
      const appointments = Number(((await knex('appointments').where({ call_sid: sid }).count({ n: '*' })) as Array<{ n: string }>)[0]!.n);
      const session = (await knex('call_sessions').where({ call_sid: sid }).first('state')) as { state: Record<string, unknown> } | undefined;
      const state = session?.state ?? {};
      const lead = record.plan.leadId
        ? ((await knex('leads').where({ id: record.plan.leadId }).first('customer_name')) as { customer_name: string | null } | undefined)
        : undefined;
      const diedDuring = deathsByQuiet !== deathsAtStart;
      const tally = (ack: 'durable' | 'volatile' | undefined, landed: boolean, what: string): void => {
        if (!ack) return;
        s.acknowledged[ack] += 1;
        if (landed) s.landed[ack] += 1;
        else if (ack === 'durable') s.lost.durable += 1;
        else if (diedDuring) s.lost.volatileToKills += 1;
        else s.lost.volatile += 1;
        if (!landed && (ack === 'durable' || !diedDuring)) this.log(`  LOST ${ack} ${what} of ${sid}`);
      };
      tally(record.greeting, typeof state.greeting === 'string', 'greeting');
      tally(record.callback, state.callbackRequested === true, 'callback request');
      // On the lead, or in the session when the call ran without its context (a load that timed out after a restart).
      tally(record.name, lead?.customer_name === LEAD_NAME || state.callerName === LEAD_NAME, 'caller name');
      // Bookings: the durable ones must all be there; the volatile ones unless the process died.
      const { durable, volatile } = record.bookings;
      for (let i = 0; i < durable; i += 1) tally('durable', i < appointments, 'booking');
      for (let i = 0; i < volatile; i += 1) tally('volatile', durable + i < appointments, 'booking');
      if (appointments > record.sent.bookings) {
        s.duplicated += appointments - record.sent.bookings;
        this.log(`  DUPLICATED: ${appointments} appointments for ${record.sent.bookings} bookings asked by ${sid}`);
      }
    }
  }

  private judge(): void {
    const s = this.summary;
    const fail = (condition: boolean, why: string): void => void (condition && s.failures.push(why));
    fail(s.lost.durable > 0, `${s.lost.durable} acknowledged durable write(s) lost`);
    fail(s.lost.volatile > 0, `${s.lost.volatile} acknowledged volatile write(s) lost although the process lived`);
    fail(s.duplicated > 0, `${s.duplicated} write(s) duplicated`);
    fail(s.unexpectedCrashes.length > 0, `${s.unexpectedCrashes.length} server crash(es) the harness did not cause`);
    fail(s.neighbours.failed.length > 0, `${s.neighbours.failed.length} neighbour call(s) of the fuzz not intact`);
    fail(s.unanswered > 0, `${s.unanswered} write(s) never answered: the caller heard nothing`);
    fail(s.hung > 0, `${s.hung} call(s) did not close within ${this.options.closeTimeoutMs} ms of their end`);
    fail(s.journalNotDrained > 0, `the journal did not drain after ${s.journalNotDrained} round(s)`);
    fail(s.acknowledged.durable + s.acknowledged.volatile === 0, 'no write was acknowledged: the run proved nothing');
  }
}

function sendFrame(client: TwilioStreamClient, frame: FuzzFrame): void {
  if (typeof frame === 'string') client.sendRaw(frame);
  else client.sendRaw(frame.binary, true);
}

function journalFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((name) => name.endsWith('.journal'));
  } catch {
    return [];
  }
}

function countFiles(dir: string): number {
  try {
    return fs.readdirSync(dir).length;
  } catch {
    return 0;
  }
}

/** The summary as people read it. */
export function formatSummary(s: ChaosSummary): string {
  const lines = [
    `chaos seed ${s.seed}: ${s.rounds} round(s) in ${(s.durationMs / 1000).toFixed(1)} s`,
    `  faults: ${s.kills} SIGKILL(s), ${s.dbCuts} database cut(s), ${
      s.journalFillSkipped ? `journal fill SKIPPED (${s.journalFillSkipped})` : `${s.journalFills} journal fill(s)`
    }, ${s.fuzzCases} fuzz case(s) / ${s.fuzzMessages} message(s)`,
    `  calls: ${s.calls.placed} placed, ${s.calls.completed} completed`,
    `  writes acknowledged: ${s.acknowledged.durable} durable / ${s.acknowledged.volatile} volatile`,
    `  landed: ${s.landed.durable} durable / ${s.landed.volatile} volatile`,
    `  lost: ${s.lost.durable} durable, ${s.lost.volatile} volatile (process alive), ${s.lost.volatileToKills} volatile to kills (allowed)`,
    `  duplicated: ${s.duplicated}`,
    `  unanswered writes: ${s.unanswered}, hung calls: ${s.hung}, journal not drained: ${s.journalNotDrained} round(s), dead letters: ${s.deadLetters}`,
    `  turned away cleanly by the webhook during faults: ${s.refused}`,
    `  neighbour calls: ${s.neighbours.checked} checked, ${s.neighbours.failed.length} failed${s.neighbours.failed.map((f) => `\n    ${f}`).join('')}`,
    `  server crashes not caused by the harness: ${s.unexpectedCrashes.length}`,
    ...groupCrashes(s.unexpectedCrashes),
    s.failures.length === 0 ? 'PASS' : `FAIL:\n${s.failures.map((f) => `  - ${f}`).join('\n')}`,
  ];
  return lines.join('\n');
}

/** One entry per distinct error (its first line), with how often, the first one's lines under it. */
function groupCrashes(crashes: readonly UnexpectedExit[]): string[] {
  const groups = new Map<string, { count: number; crash: UnexpectedExit }>();
  for (const crash of crashes) {
    const key = `${crash.code ?? crash.signal} ${crash.tail.split('\n')[0]}`;
    const group = groups.get(key);
    if (group) group.count += 1;
    else groups.set(key, { count: 1, crash });
  }
  return [...groups.values()].map(
    ({ count, crash }) => `    ${count}x exit ${crash.code ?? crash.signal}:\n${crash.tail.replace(/^/gm, '      ')}`,
  );
}
