import path from 'node:path';
import { z } from 'zod';
import { maskConnectionString } from './db/connection-string.js';
import { ConfigError, DEFAULTS, FSYNC_POLICIES, type FsyncPolicy } from '../src/index.js';
import { GUARD_MODES, type GuardMode } from '../src/guard/index.js';

/** `nats://user:pw@h:4222` → `nats://***@h:4222` (each comma-separated server). */
function maskNatsUrl(url: string): string {
  return url.replace(/(^|,)\s*([a-z][a-z0-9+.-]*:\/\/)?[^@,]*@/gi, (_match, start: string, scheme?: string) => `${start}${scheme ?? ''}***@`);
}

/** pino's levels (`LOG_LEVEL`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export { FSYNC_POLICIES, GUARD_MODES };
export type { FsyncPolicy, GuardMode };

/** The process configuration, read once from the environment. */
export interface Config {
  /** `DATABASE_URL`: a postgres:// URL. Unset: an embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  /** `PORT`, default 8080 (0 picks a free port). */
  port: number;
  /** `HOST`, default 127.0.0.1. */
  host: string;
  /** `LIVE_CALL_GUARD`: report | block | off, default report. */
  guardMode: GuardMode;
  /** `LOG_LEVEL`, default info. */
  logLevel: LogLevel;
  /** `DATA_DIR`: where local state lives (embedded PostgreSQL, journal), default `.data`. */
  dataDir: string;
  /** `JOURNAL_DIR`: the write journal, default `<DATA_DIR>/journal`. */
  journalDir: string;
  /** `JOURNAL_FSYNC`: write | interval | none, default interval (see the buffer's journal). */
  journalFsync: FsyncPolicy;
  /**
   * `JOURNAL_URL=nats://…` (several servers comma-separated): the write
   * journal on NATS JetStream instead of `JOURNAL_DIR` (docs/jetstream.md).
   * `JOURNAL_REPLICAS`: 1, 3 or 5; default 3 when `NODE_ENV=production`, else 1.
   */
  journal: { url: string; replicas: 1 | 3 | 5 } | undefined;
  /** `CONTEXT_LOAD_TIMEOUT_MS`: how long the one call-start query may take, default 500. */
  contextLoadTimeoutMs: number;
  /** `TWILIO_AUTH_TOKEN`: checks `X-Twilio-Signature` on /twiml and the /media upgrade. */
  twilioAuthToken: string | undefined;
  /** `PUBLIC_URL`: the https origin Twilio reaches (signatures, the Stream URL). Required with TWILIO_AUTH_TOKEN. */
  publicUrl: string | undefined;
  /** `CALL_STREAM_SECRET`: signs the stream token the `start` message must carry (16+ characters). */
  callStreamSecret: string | undefined;
  /** `DRAIN_TIMEOUT_S`: how long SIGTERM waits for live calls to end, default 30. */
  drainTimeoutSeconds: number;
  /** `MAX_LIVE_CALLS`: calls one server process takes at once; past it new calls are refused (busy). 0: no limit. Default 400 (DEFAULTS.maxLiveCalls). */
  maxLiveCalls: number;
  /** `DB_POOL_SIZE`: database connections per server process, opened at start and kept (see DEFAULTS.dbPoolSize). Default 10. */
  dbPoolSize: number;
  /** `OPENAI_API_KEY`: with it, `serve --agent realtime` runs the voice-AI receptionist (never logged). */
  openaiApiKey: string | undefined;
  /** `REALTIME_URL`: the Realtime endpoint, default OpenAI's (`ws://` for a local server). */
  realtimeUrl: string;
  /** `REALTIME_MODEL`: the Realtime model, default gpt-realtime. */
  realtimeModel: string;
}

const postgresUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'must be a postgres:// or postgresql:// URL with a host' },
);

const port = z
  .string()
  .regex(/^\d+$/, 'must be an integer from 0 to 65535')
  .transform(Number)
  .refine((n) => n <= 65535, 'must be an integer from 0 to 65535');

const nonEmpty = z.string().min(1, 'must not be empty');

/** Each variable, its schema and default: the one place defaults live. */
const schema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  PORT: port.default(8080),
  HOST: nonEmpty.default('127.0.0.1'),
  LIVE_CALL_GUARD: z.enum(GUARD_MODES, { message: `must be one of ${GUARD_MODES.join(', ')}` }).default('report'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  DATA_DIR: nonEmpty.default('.data'),
  JOURNAL_DIR: nonEmpty.optional(),
  JOURNAL_FSYNC: z.enum(FSYNC_POLICIES, { message: `must be one of ${FSYNC_POLICIES.join(', ')}` }).default(DEFAULTS.journalFsync),
  JOURNAL_URL: z
    .string()
    .refine((value) => value.split(',').every((part) => /^(nats|tls):\/\/[^/\s]+$/.test(part.trim()) && URL.canParse(part.trim())), 'must be nats://host:port (several comma-separated)')
    .optional(),
  JOURNAL_REPLICAS: z.enum(['1', '3', '5'], { message: 'must be 1, 3 or 5' }).optional(),
  NODE_ENV: z.string().optional(),
  TWILIO_AUTH_TOKEN: z.string().min(8, 'must be at least 8 characters').optional(),
  PUBLIC_URL: z
    .string()
    .refine((value) => /^https?:\/\/[^/]+/.test(value) && URL.canParse(value), 'must be an http:// or https:// URL')
    .optional(),
  CALL_STREAM_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  DRAIN_TIMEOUT_S: z.string().regex(/^\d+$/, 'must be a whole number of seconds').transform(Number).default(DEFAULTS.drainTimeoutSeconds),
  CONTEXT_LOAD_TIMEOUT_MS: z
    .string()
    .regex(/^[1-9]\d*$/, 'must be a positive integer (milliseconds)')
    .transform(Number)
    .default(DEFAULTS.contextLoadTimeoutMs),
  MAX_LIVE_CALLS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of calls (0: no limit)')
    .transform(Number)
    .default(DEFAULTS.maxLiveCalls),
  DB_POOL_SIZE: z
    .string()
    .regex(/^[1-9]\d*$/, 'must be a positive whole number of connections')
    .transform(Number)
    .default(DEFAULTS.dbPoolSize),
  OPENAI_API_KEY: z.string().min(8, 'must be at least 8 characters').optional(),
  REALTIME_URL: z
    .string()
    .refine((value) => /^wss?:\/\/[^/]+/.test(value) && URL.canParse(value), 'must be a ws:// or wss:// URL')
    .default(DEFAULTS.realtimeUrl),
  REALTIME_MODEL: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'must be a model name').default(DEFAULTS.realtimeModel),
});

/** Never echoed back: only their length is. */
const SECRET_VARIABLES = new Set(['TWILIO_AUTH_TOKEN', 'CALL_STREAM_SECRET', 'OPENAI_API_KEY']);

function describeReceived(name: string, value: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (SECRET_VARIABLES.has(name)) return `a value of ${value.length} characters`;
  if (name === 'JOURNAL_URL') return JSON.stringify(maskNatsUrl(value));
  return JSON.stringify(name === 'DATABASE_URL' ? maskConnectionString(value) : value);
}

/**
 * Reads and validates the configuration. Empty variables count as unset.
 * Throws a {@link ConfigError} whose message is one line naming the variable
 * and the value received (secrets masked).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name} ${issue.message} (received ${describeReceived(name, input[name])})`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const values = parsed.data;
  if (values.TWILIO_AUTH_TOKEN && !values.PUBLIC_URL) {
    throw new ConfigError('Invalid configuration: PUBLIC_URL must be set with TWILIO_AUTH_TOKEN (signatures are over the public URL) (received nothing)');
  }
  const dataDir = path.resolve(values.DATA_DIR);
  return {
    databaseUrl: values.DATABASE_URL,
    port: values.PORT,
    host: values.HOST,
    guardMode: values.LIVE_CALL_GUARD,
    logLevel: values.LOG_LEVEL,
    dataDir,
    journalDir: values.JOURNAL_DIR ? path.resolve(values.JOURNAL_DIR) : path.join(dataDir, 'journal'),
    journalFsync: values.JOURNAL_FSYNC,
    journal: values.JOURNAL_URL
      ? { url: values.JOURNAL_URL, replicas: Number(values.JOURNAL_REPLICAS ?? (values.NODE_ENV === 'production' ? 3 : 1)) as 1 | 3 | 5 }
      : undefined,
    contextLoadTimeoutMs: values.CONTEXT_LOAD_TIMEOUT_MS,
    twilioAuthToken: values.TWILIO_AUTH_TOKEN,
    publicUrl: values.PUBLIC_URL,
    callStreamSecret: values.CALL_STREAM_SECRET,
    drainTimeoutSeconds: values.DRAIN_TIMEOUT_S,
    maxLiveCalls: values.MAX_LIVE_CALLS,
    dbPoolSize: values.DB_POOL_SIZE,
    openaiApiKey: values.OPENAI_API_KEY,
    realtimeUrl: values.REALTIME_URL,
    realtimeModel: values.REALTIME_MODEL,
  };
}
