// The public surface, pinned: the runtime names each entry point exports.
// A change here is a change to what adopters can import: make it on purpose,
// in review (and in the README). Types are checked by the packaging test.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };

describe('the public API', () => {
  it('package.json exports these subpaths and no other', () => {
    expect(Object.keys(manifest.exports).sort()).toEqual(['.', './check', './guard', './package.json', './realtime', './sdk', './testing', './twilio']);
  });

  it('live-call-guard (src/index.ts)', async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'CallContextLoadError',
      'ConfigError',
      'DEFAULTS',
      'ErrorCodes',
      'FSYNC_POLICIES',
      'Flusher',
      'InvalidWriteError',
      'JetStreamJournal',
      'Journal',
      'JournalError',
      'LiveCallDbAccessError',
      'LiveCallGuardError',
      'StreamReplayError',
      'TenantMismatchError',
      'UnknownTenantError',
      'WriteBufferClosedError',
      'WriteBufferFullError',
      'createLogger',
      'defineCallApp',
      'defineWrite',
      'layerMigrations',
      'loadContext',
      'migrateLayer',
      'positiveIntegerId',
      'pruneStreamClaims',
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
      'checkTraces',
      'checkVerdict',
      'formatSarif',
    ]);
  });

  it('live-call-guard/twilio (src/twilio/index.ts)', async () => {
    expect(Object.keys(await import('../src/twilio/index.js')).sort()).toEqual([
      'CloseCodes',
      'busyTwiml',
      'createCallLayer',
      'isValidTwilioSignature',
      'mediaStream',
      'streamTwiml',
      'twilioUpgradeVerifier',
    ]);
  });

  it('live-call-guard/realtime (src/realtime/index.ts)', async () => {
    expect(Object.keys(await import('../src/realtime/index.js')).sort()).toEqual(['readTool', 'realtimeAgent', 'writeTool']);
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

  it('DEFAULTS cannot be changed at run time', async () => {
    const { DEFAULTS } = await import('../src/index.js');
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    expect(() => {
      (DEFAULTS as { drainTimeoutSeconds: number }).drainTimeoutSeconds = 1;
    }).toThrow(TypeError);
    expect(DEFAULTS.drainTimeoutSeconds).toBe(30);
  });

  it('the published .d.ts leaves @internal members out (stripInternal)', () => {
    const file = new URL('../dist/buffer/write-buffer.d.ts', import.meta.url);
    let declarations: string;
    try {
      declarations = readFileSync(file, 'utf8');
    } catch {
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    }
    expect(declarations).toContain('enqueue<');
    for (const member of ['restore', 'persist', 'journalFile']) expect(declarations).not.toMatch(new RegExp(`\\b${member}\\b`));
  });
});
