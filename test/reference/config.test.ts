import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../reference/config.js';
import { ConfigError } from '../../src/errors.js';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted invalid configuration');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: undefined,
      port: 8080,
      host: '127.0.0.1',
      guardMode: 'report',
      logLevel: 'info',
      dataDir: path.resolve('.data'),
      journalDir: path.resolve('.data', 'journal'),
      journalFsync: 'interval',
      contextLoadTimeoutMs: 500,
      twilioAuthToken: undefined,
      publicUrl: undefined,
      callStreamSecret: undefined,
      drainTimeoutSeconds: 30,
      maxLiveCalls: 400,
      dbPoolSize: 10,
      openaiApiKey: undefined,
      realtimeUrl: 'wss://api.openai.com/v1/realtime',
      realtimeModel: 'gpt-realtime',
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://app:pw@db.internal:5433/calls',
      PORT: '0',
      HOST: '0.0.0.0',
      LIVE_CALL_GUARD: 'block',
      LOG_LEVEL: 'debug',
      DATA_DIR: '/var/lib/lcg',
      JOURNAL_DIR: '/var/spool/lcg',
      JOURNAL_FSYNC: 'write',
      CONTEXT_LOAD_TIMEOUT_MS: '250',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgresql://app:pw@db.internal:5433/calls',
      port: 0,
      host: '0.0.0.0',
      guardMode: 'block',
      logLevel: 'debug',
      dataDir: '/var/lib/lcg',
      journalDir: '/var/spool/lcg',
      journalFsync: 'write',
      contextLoadTimeoutMs: 250,
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 8080, databaseUrl: undefined });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be an integer from 0 to 65535 (received "abc")'],
    [{ PORT: '70000' }, 'PORT must be an integer from 0 to 65535 (received "70000")'],
    [{ PORT: '-1' }, 'PORT must be an integer from 0 to 65535 (received "-1")'],
    [{ JOURNAL_FSYNC: 'always' }, 'JOURNAL_FSYNC must be one of write, interval, none (received "always")'],
    [{ CONTEXT_LOAD_TIMEOUT_MS: '0' }, 'CONTEXT_LOAD_TIMEOUT_MS must be a positive integer (milliseconds) (received "0")'],
    [{ PUBLIC_URL: 'wss://x' }, 'PUBLIC_URL must be an http:// or https:// URL (received "wss://x")'],
    [{ DRAIN_TIMEOUT_S: 'soon' }, 'DRAIN_TIMEOUT_S must be a whole number of seconds (received "soon")'],
    [{ TWILIO_AUTH_TOKEN: 'abcdefgh' }, 'PUBLIC_URL must be set with TWILIO_AUTH_TOKEN (signatures are over the public URL) (received nothing)'],
    [{ LIVE_CALL_GUARD: 'warn' }, 'LIVE_CALL_GUARD must be one of report, block, off (received "warn")'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (received "loud")'],
    [{ DATABASE_URL: 'mysql://u@h/db' }, 'DATABASE_URL must be a postgres:// or postgresql:// URL with a host (received "mysql://u@h/db")'],
    [{ REALTIME_URL: 'https://api.openai.com/v1/realtime' }, 'REALTIME_URL must be a ws:// or wss:// URL (received "https://api.openai.com/v1/realtime")'],
    [{ OPENAI_API_KEY: 'sk-1' }, 'OPENAI_API_KEY must be at least 8 characters (received a value of 4 characters)'],
  ])('rejects %o with one line naming the variable and value', (env, expected) => {
    const error = configError(env);
    expect(error.code).toBe('ERR_INVALID_CONFIG');
    expect(error.message).toBe(`Invalid configuration: ${expected}`);
    expect(error.message).not.toContain('\n');
  });

  it('masks the password of a malformed DATABASE_URL in the error', () => {
    const error = configError({ DATABASE_URL: 'postgres://admin:hunter2@' });
    expect(error.message).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(error.message).toContain('***@');
    expect(error.message).not.toContain('hunter2');
  });

  it('never echoes a secret, only its length', () => {
    const error = configError({ CALL_STREAM_SECRET: 'short-secret' });
    expect(error.message).toBe('Invalid configuration: CALL_STREAM_SECRET must be at least 16 characters (received a value of 12 characters)');
  });

  it('JOURNAL_URL picks the JetStream journal: replicas 1 in development, 3 in production, or JOURNAL_REPLICAS', () => {
    const url = 'nats://10.0.0.1:4222,nats://10.0.0.2:4222';
    expect(loadConfig({}).journal).toBeUndefined();
    expect(loadConfig({ JOURNAL_URL: url }).journal).toEqual({ url, replicas: 1 });
    expect(loadConfig({ JOURNAL_URL: url, NODE_ENV: 'production' }).journal).toEqual({ url, replicas: 3 });
    expect(loadConfig({ JOURNAL_URL: url, NODE_ENV: 'production', JOURNAL_REPLICAS: '5' }).journal).toEqual({ url, replicas: 5 });
  });

  it('rejects a JOURNAL_URL that is not nats://, its credentials masked', () => {
    const error = configError({ JOURNAL_URL: 'redis://app:hunter2@cache:6379' });
    expect(error.message).toBe('Invalid configuration: JOURNAL_URL must be nats://host:port (several comma-separated) (received "redis://***@cache:6379")');
    expect(configError({ JOURNAL_URL: 'nats://h:4222', JOURNAL_REPLICAS: '2' }).message).toContain('JOURNAL_REPLICAS must be 1, 3 or 5');
  });

  it('reports every invalid variable at once', () => {
    const error = configError({ PORT: 'x', LIVE_CALL_GUARD: 'y' });
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('LIVE_CALL_GUARD');
  });
});
