// The public surface, pinned: the runtime names each entry point exports.
// A change here is a change to what adopters can import: make it on purpose,
// in review (and in the README). Types are checked by the packaging test.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };

describe('the public API', () => {
  it('package.json exports these subpaths and no other', () => {
    expect(Object.keys(manifest.exports).sort()).toEqual(['.', './check', './guard', './package.json', './sdk', './testing', './twilio']);
  });

  it('live-call-guard (src/index.ts)', async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'CallContextLoadError',
      'ConfigError',
      'DEFAULTS',
      'ErrorCodes',
      'FSYNC_POLICIES',
      'Flusher',
      'GUARD_MODES',
      'InvalidWriteError',
      'Journal',
      'JournalError',
      'LAYER_MIGRATIONS_TABLE',
      'LiveCallDbAccessError',
      'LiveCallGuardError',
      'STREAM_CLAIMS_TABLE',
      'StreamReplayError',
      'TenantMismatchError',
      'UnknownTenantError',
      'WriteBuffer',
      'WriteBufferClosedError',
      'WriteBufferFullError',
      'createLogger',
      'defineCallApp',
      'defineWrite',
      'layerMigrations',
      'loadContext',
      'migrateLayer',
      'positiveIntegerId',
      'sidSchema',
    ]);
  });

  it('live-call-guard/guard (src/guard/index.ts)', async () => {
    expect(Object.keys(await import('../src/guard/index.js')).sort()).toEqual([
      'Attributes',
      'CallDbReport',
      'Events',
      'GUARD_MODES',
      'IO_KINDS',
      'LiveCallDbAccessError',
      'LiveCallGuardProcessor',
      'LiveCallIoAccessError',
      'LiveCallSampler',
      'Metrics',
      'SpanNames',
      'TraceFileExporter',
      'allowDatabaseDuringLiveCall',
      'getLiveCall',
      'liveCallInstrumentations',
      'liveCallSpanProcessors',
      'runInCallPhase',
      'runInLiveCall',
      'samplerFromEnv',
      'startLiveCall',
      'withCallDbReport',
    ]);
  });

  it('live-call-guard/sdk (src/sdk/index.ts)', async () => {
    expect(Object.keys(await import('../src/sdk/index.js')).sort()).toEqual([
      'activeTelemetry',
      'startTelemetry',
    ]);
  });

  it('live-call-guard/check (src/check/index.ts)', async () => {
    expect(Object.keys(await import('../src/check/index.js')).sort()).toEqual([
      'checkExitCode',
      'checkTraces',
      'checkVerdict',
      'formatJson',
      'formatText',
    ]);
  });

  it('live-call-guard/twilio (src/twilio/index.ts)', async () => {
    expect(Object.keys(await import('../src/twilio/index.js')).sort()).toEqual([
      'CloseCodes',
      'DEFAULT_LIMITS',
      'busyTwiml',
      'createStreamToken',
      'isValidTwilioSignature',
      'mediaStream',
      'mediaStreamUrl',
      'parseInboundMessage',
      'streamTwiml',
      'twilioUpgradeVerifier',
      'verifyStreamToken',
    ]);
  });

  it('live-call-guard/testing (src/testing/index.ts)', async () => {
    expect(Object.keys(await import('../src/testing/index.js')).sort()).toEqual([
      'FRAME_BYTES',
      'SAMPLE_RATE',
      'TwilioStreamClient',
      'decodeSample',
      'encodeSample',
      'expectNoLiveCallDbAccess',
      'findLiveCallDbAccess',
      'parseStreamTwiml',
      'rmsLevel',
      'tones',
    ]);
  });
});
