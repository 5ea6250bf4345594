// npm run bench [-- --quick]: every performance figure of the project,
// measured side by side in one run, printed as markdown and written to
// bench/results/latest.json.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startTelemetry } from '../src/telemetry/sdk.js';

// tsx turns source maps on; stack capture (the guard's violation path) would
// pay for mapping that a built server does not.
process.setSourceMapsEnabled(false);

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = values.quick ?? false;

// The SDK first: pg must be loaded after it (knex loads pg).
const telemetry = startTelemetry({ serviceName: 'live-call-guard-bench', guard: { mode: 'report' }, env: {} });
const { openDatabase } = await import('../src/db/database.js');
const { benchGuardOverhead } = await import('./guard-overhead.js');
const { benchCheckThroughput } = await import('./check-throughput.js');
const { benchCallPath, callPathMarkdown } = await import('./call-path.js');
const { migrate } = await import('../src/db/migrate.js');
const { seedDemoData } = await import('../src/db/seed.js');

const database = await openDatabase({
  databaseUrl: process.env.DATABASE_URL,
  dataDir: path.resolve('.data/bench'),
});
try {
  await migrate(database.knex);
  await seedDemoData(database.knex);
  const callPath = await benchCallPath(database.knex, { quick });
  const guard = await benchGuardOverhead(database.knex, telemetry.guard, { quick });
  const check = await benchCheckThroughput(path.resolve('.data/bench'), { quick });
  const results = { quick, node: process.version, when: new Date().toISOString(), callPath, guard, check };
  await fs.mkdir('bench/results', { recursive: true });
  await fs.writeFile('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);

  const { onStartNs, queryLoop } = guard;
  process.stdout.write(
    [
      `## live-call-guard bench${quick ? ' (quick)' : ''}`,
      '',
      ...callPathMarkdown(callPath),
      '### Guard cost',
      '',
      '| measure | value |',
      '| --- | --- |',
      `| onStart, non-DB span outside a call | ${onStartNs.nonDbOutsideCall} ns |`,
      `| onStart, non-DB span in a live call | ${onStartNs.nonDbInLiveCall} ns |`,
      `| onStart, DB span outside a call | ${onStartNs.dbOutsideCall} ns |`,
      `| onStart, DB span in a live call (a violation: stack captured) | ${onStartNs.dbInLiveCallReport} ns |`,
      `| \`select 1\` loop, guard off | ${queryLoop.perSecond.off} queries/s |`,
      `| \`select 1\` loop, guard report (outside calls) | ${queryLoop.perSecond.report} queries/s |`,
      `| \`select 1\` loop, guard report, every query a violation | ${queryLoop.perSecond.reportInLiveCall} queries/s |`,
      `| throughput ratio report / off | ${queryLoop.reportOverOff} |`,
      '',
      '### `live-call-guard check`',
      '',
      '| measure | value |',
      '| --- | --- |',
      `| spans checked (OTLP JSON lines, ${check.fileMb} MB) | ${check.spans} |`,
      `| violations found / planted | ${check.violationsFound} / ${check.violationsPlanted} |`,
      `| throughput | ${check.spansPerSecond} spans/s |`,
      `| peak memory (RSS of the checking process) | ${check.peakRssMb} MB |`,
      '',
      `Written to bench/results/latest.json`,
      '',
    ].join('\n'),
  );
} finally {
  await database.close();
  await telemetry.shutdown();
}
