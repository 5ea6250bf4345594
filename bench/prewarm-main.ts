// npm run bench:prewarm [-- --quick] [--gap 100-500] [--first-frame-ms 20] [--calls 60] [--runs 1] [--workers]:
// the webhook-to-first-frame section of `npm run bench` alone (and the start
// statement's options), each run printed, then the median of the runs;
// with --workers, also the calls on `serve --workers 2` (a child process).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startTelemetry } from '../src/sdk/node-sdk.js';

process.setSourceMapsEnabled(false);
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    gap: { type: 'string', default: '100-500' },
    'first-frame-ms': { type: 'string', default: '20' },
    calls: { type: 'string' },
    runs: { type: 'string', default: '1' },
    workers: { type: 'boolean', default: false },
  },
});
const gap = /^(\d{1,5})-(\d{1,5})$/.exec(values.gap ?? '');
if (!gap || Number(gap[1]) > Number(gap[2])) throw new Error(`--gap must be MIN-MAX in ms, MIN <= MAX (received ${values.gap})`);
const positive = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d{1,6}$/.test(value)) throw new Error(`--${name} must be a whole number (received ${value})`);
  return Number(value);
};
const quick = values.quick ?? false;
const runs = positive('runs', values.runs) ?? 1;

const telemetry = startTelemetry({ serviceName: 'live-call-guard-bench', guard: { mode: 'report' }, env: {} });
const { openDatabase } = await import('../reference/db/database.js');
const { migrate } = await import('../reference/db/migrate.js');
const { migrateLayer } = await import('../src/index.js');
const { seedDemoData } = await import('../reference/db/seed.js');
const { benchStartStatement, startStatementMarkdown, START_OPTIONS } = await import('./start-statement.js');
const { benchPrewarm, prewarmMarkdown, prewarmBroken } = await import('./prewarm.js');
const { median, round } = await import('./measure.js');
const { benchPrewarmWorkers, prewarmWorkersMarkdown } = await import('./prewarm-workers.js');

const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: path.resolve('.data/bench') });
try {
  await migrateLayer(database.knex);
  await migrate(database.knex);
  await seedDemoData(database.knex);
  const statements = [];
  const prewarms = [];
  for (let run = 1; run <= runs; run++) {
    const statement = await benchStartStatement(database.knex, { quick });
    const calls = positive('calls', values.calls);
    const firstFrameMs = positive('first-frame-ms', values['first-frame-ms']);
    const prewarm = await benchPrewarm({
      quick,
      databaseUrl: database.connectionString,
      gapMinMs: Number(gap[1]),
      gapMaxMs: Number(gap[2]),
      ...(calls !== undefined ? { calls } : {}),
      ...(firstFrameMs !== undefined ? { firstFrameMs } : {}),
    });
    statements.push(statement);
    prewarms.push(prewarm);
    const workers = values.workers
      ? await benchPrewarmWorkers({
          databaseUrl: database.connectionString,
          calls: calls ?? (quick ? 4 : 60),
          gapMs: [Number(gap[1]), Number(gap[2])],
          firstFrameMs: firstFrameMs ?? 20,
        })
      : undefined;
    process.stdout.write(
      [
        `## run ${run} of ${runs}${quick ? ' (quick)' : ''}`,
        '',
        ...startStatementMarkdown(statement),
        ...prewarmMarkdown(prewarm),
        ...(workers ? prewarmWorkersMarkdown(workers) : []),
      ].join('\n'),
    );
    if (workers && workers.failed > 0) {
      process.stderr.write(`bench: ${workers.failed} calls on serve --workers failed\n`);
      process.exitCode = 1;
    }
    const broken = prewarmBroken(prewarm);
    if (broken.length > 0) {
      process.stderr.write(`bench: structural figures broken:\n  ${broken.join('\n  ')}\n`);
      process.exitCode = 1;
    }
  }
  if (runs > 1) {
    const med = (values: number[]) => round(median(values), 3);
    const lines = [`## median of ${runs} runs`, '', '| statement | median ms | × select 1 |', '| --- | --- | --- |'];
    for (const option of START_OPTIONS) {
      lines.push(`| ${option} | ${med(statements.map((s) => s.medianMs[option]))} | ${med(statements.map((s) => s.overSelect1[option]))} |`);
    }
    lines.push('', '| landed | ready before first frame (share) | start → ready p50 | p99 |', '| --- | --- | --- | --- |');
    for (const [i, landing] of prewarms[0]!.landings.entries()) {
      const all = prewarms.map((p) => p.landings[i]!);
      lines.push(
        `| ${landing.landed} | ${med(all.map((l) => l.readyBeforeFirstFrameShare))} | ${med(all.map((l) => l.startToReadyMs.p50))} | ${med(all.map((l) => l.startToReadyMs.p99))} |`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} finally {
  await database.close();
  await telemetry.shutdown();
}
