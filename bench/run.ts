// npm run bench [-- --quick]: every performance figure of the project,
// measured side by side in one run, printed as markdown and written to
// bench/results/latest.json.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startTelemetry } from '../src/sdk/node-sdk.js';

// tsx turns source maps on; stack capture (the guard's violation path) would
// pay for mapping that a built server does not.
process.setSourceMapsEnabled(false);

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = values.quick ?? false;

// The SDK first: pg must be loaded after it (knex loads pg).
const { CallSpanCollector, benchCalls } = await import('./calls.js');
const collector = new CallSpanCollector();
const telemetry = startTelemetry({ serviceName: 'live-call-guard-bench', guard: { mode: 'report' }, env: {}, spanProcessors: [collector] });
const { openDatabase } = await import('../reference/db/database.js');
const { benchGuardOverhead } = await import('./guard-overhead.js');
const { benchIoGuardOverhead } = await import('./io-guard-overhead.js');
const { benchCheckThroughput } = await import('./check-throughput.js');
const { benchHtmlReport } = await import('./html-report.js');
const { benchCapacity } = await import('./capacity/run-capacity.js');
const { capacityMarkdown } = await import('./capacity/capacity-report.js');
const { benchSideBySide, sideBySideMarkdown } = await import('./capacity/side-by-side.js');
const { benchCallPath, callPathMarkdown } = await import('./call-path.js');
const { benchStartStatement, startStatementMarkdown } = await import('./start-statement.js');
const { benchPrewarm, prewarmMarkdown, prewarmBroken } = await import('./prewarm.js');
const { latencyChart } = await import('./chart.js');
const { benchRealtime, realtimeMarkdown } = await import('./realtime-bridge.js');
const { migrate } = await import('../reference/db/migrate.js');
const { migrateLayer } = await import('../src/index.js');
const { seedDemoData } = await import('../reference/db/seed.js');

const database = await openDatabase({
  databaseUrl: process.env.DATABASE_URL,
  dataDir: path.resolve('.data/bench'),
});
try {
  await migrateLayer(database.knex);
  await migrate(database.knex);
  await seedDemoData(database.knex);
  const callPath = await benchCallPath(database.knex, { quick });
  const startStatement = await benchStartStatement(database.knex, { quick });
  const prewarm = await benchPrewarm({ quick, databaseUrl: database.connectionString });
  const calls = await benchCalls({ quick, databaseUrl: database.connectionString, guard: telemetry.guard, collector });
  const guard = await benchGuardOverhead(database.knex, telemetry.guard, { quick });
  const ioGuard = await benchIoGuardOverhead(telemetry.guard, { quick });
  const check = await benchCheckThroughput(path.resolve('.data/bench'), { quick });
  const html = await benchHtmlReport(path.resolve('.data/bench'), { quick });
  const capacity = await benchCapacity({ quick, databaseUrl: database.connectionString });
  // CPU per call side by side: 350 calls on each of the three servers at once (quick: 10, with the floor variants).
  const sideBySide = await benchSideBySide({ quick, databaseUrl: database.connectionString, calls: quick ? 10 : 350, floorVariants: quick });
  const realtime = await benchRealtime({ quick });
  const results = { quick, node: process.version, when: new Date().toISOString(), calls, callPath, startStatement, prewarm, guard, ioGuard, check, html, capacity, sideBySide, realtime };
  await fs.mkdir('bench/results', { recursive: true });
  await fs.writeFile('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
  await fs.writeFile('bench/results/latency.svg', latencyChart(calls.levels));

  const { onStartNs, queryLoop } = guard;
  const { naive, cached } = calls.phases;
  const byLevel = (server: string) => calls.levels.filter((l) => l.server === server);
  process.stdout.write(
    [
      `## live-call-guard bench${quick ? ' (quick)' : ''}`,
      '',
      `### Per call, by phase (mean of ${cached.calls} calls, scenario mix)`,
      '',
      '| | naive | cached |',
      '| --- | --- | --- |',
      `| queries at start (load) | ${naive.queries.load} | ${cached.queries.load} |`,
      `| queries during the live call | ${naive.queries.live} | ${cached.queries.live} |`,
      `| queries at end (flush) | ${naive.queries.flush} | ${cached.queries.flush} |`,
      `| commits during the live call | ${naive.commits.live} | ${cached.commits.live} |`,
      `| commits at end | ${naive.commits.flush} | ${cached.commits.flush} |`,
      `| DB time: load / live / flush (ms) | ${naive.dbTimeMs.load} / ${naive.dbTimeMs.live} / ${naive.dbTimeMs.flush} | ${cached.dbTimeMs.load} / ${cached.dbTimeMs.live} / ${cached.dbTimeMs.flush} |`,
      `| DB time, total (ms) | ${naive.dbTimeMs.total} | ${cached.dbTimeMs.total} |`,
      '',
      `### Media frames, server side, by concurrent real-time calls (${calls.durationMs / 1000} s calls)`,
      '',
      '| calls | naive p50 / p99 / p99.9 (µs) | cached p50 / p99 / p99.9 (µs) | event-loop delay p99 naive / cached (ms) | failed naive / cached |',
      '| --- | --- | --- | --- | --- |',
      ...byLevel('cached').map((c) => {
        const n = byLevel('naive').find((l) => l.calls === c.calls)!;
        return `| ${c.calls} | ${n.frameUs.p50} / ${n.frameUs.p99} / ${n.frameUs.p999} | ${c.frameUs.p50} / ${c.frameUs.p99} / ${c.frameUs.p999} | ${n.eventLoopDelayP99Ms} / ${c.eventLoopDelayP99Ms} | ${n.failed} / ${c.failed} |`;
      }),
      '',
      'Capacity: see the capacity table below (measured from outside, against the bare ws floor).',
      '',
      `### Guard modes (cached agent, ${calls.guardModes[0]?.calls} calls)`,
      '',
      '| mode | frame p50 / p99 (µs) | p99 / off | messages handled | failed |',
      '| --- | --- | --- | --- | --- |',
      ...calls.guardModes.map((m) => `| ${m.mode} | ${m.frameUs.p50} / ${m.frameUs.p99} | ${m.p99OverOff} | ${m.messages} | ${m.failed} |`),
      '',
      ...callPathMarkdown(callPath),
      ...startStatementMarkdown(startStatement),
      ...prewarmMarkdown(prewarm),
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
      '### The guard beyond pg (live call with no I/O; judged HTTP requests, node:http to a loopback server)',
      '',
      '| | figure |',
      '| --- | --- |',
      `| \`live.run(frame)\`, no I/O, guard off | ${ioGuard.liveRunNs.off} ns |`,
      `| \`live.run(frame)\`, no I/O, guard report | ${ioGuard.liveRunNs.report} ns |`,
      `| HTTP GET in a live call, guard off | ${ioGuard.httpRequestUs.off} µs/request |`,
      `| HTTP GET outside calls, guard report | ${ioGuard.httpRequestUs.reportOutsideCall} µs/request |`,
      `| HTTP GET in a live call, guard report (each a violation) | ${ioGuard.httpRequestUs.reportInLiveCall} µs/request |`,
      `| HTTP GET in a live call, host allowlisted | ${ioGuard.httpRequestUs.reportAllowlisted} µs/request |`,
      '',
      '### `live-call-guard check`',
      '',
      '| measure | value |',
      '| --- | --- |',
      `| spans checked (OTLP JSON lines, ${check.fileMb} MB; calls split across lines, late children, duplicates) | ${check.spans} (+${check.duplicates} duplicates) |`,
      `| live calls judged | ${check.calls} |`,
      `| violations found / planted | ${check.violationsFound} / ${check.violationsPlanted} |`,
      `| throughput | ${check.spansPerSecond} spans/s |`,
      `| peak memory (RSS of the checking process) | ${check.peakRssMb} MB |`,
      '',
      '### `live-call-guard check --html`',
      '',
      '| measure | value |',
      '| --- | --- |',
      `| spans / violations in the input | ${html.spans} / ${html.violations} |`,
      `| check alone / then the report (second read, render, write) | ${html.checkSeconds} s / ${html.reportSeconds} s |`,
      `| report size | ${html.fileMb} MB |`,
      `| calls drawn / listed / counted only | ${html.callsDrawn} / ${html.callsListed} / ${html.callsNotListed} |`,
      `| peak memory (RSS) | ${html.peakRssMb} MB |`,
      '',
      ...capacityMarkdown(capacity),
      ...sideBySideMarkdown(sideBySide),
      ...realtimeMarkdown(realtime),
      `Written to bench/results/latest.json and bench/results/latency.svg`,
      '',
    ].join('\n'),
  );
  // The structural figures CI relies on: never wall-clock times.
  const broken = [
    cached.queries.load !== 1 && `cached: ${cached.queries.load} queries at start, expected 1`,
    cached.queries.live !== 0 && `cached: ${cached.queries.live} queries during the live call, expected 0`,
    realtime.dropped !== 0 && `realtime bridge: ${realtime.dropped} frames dropped, expected 0`,
    cached.commits.live !== 0 && `cached: ${cached.commits.live} commits during the live call, expected 0`,
    cached.commits.flush !== 1 && `cached: ${cached.commits.flush} commits at end, expected 1 transaction`,
    !(naive.queries.live > 0) && `naive: ${naive.queries.live} queries during the live call, expected some`,
    // At the lowest level a failed call is a bug; higher levels measure load.
    calls.levels.some((l) => l.server === 'cached' && l.calls === 10 && l.failed > 0) && 'cached: a call failed at 10 concurrent calls',
    html.callsDrawn !== Math.min(html.violations, 100) + 20 && `check --html: ${html.callsDrawn} calls drawn, expected the caps`,
    html.fileMb > 8 && `check --html: a ${html.fileMb} MB report, expected a few MB`,
    // Capacity in quick mode: every call of the tiny level answered, on each server, profiles read,
    // and past MAX_LIVE_CALLS every caller either answered or refused cleanly.
    ...(['bare', 'layer', 'receptionist'] as const).map((server) => {
      if (!quick) return false; // full mode: levels past the limit fail by design
      const levels = capacity.runs.flatMap((run) => run.levels).filter((l) => l.server === server);
      if (levels.length === 0) return `capacity: no ${server} level ran`;
      const broken = levels.find((l) => l.failed > 0 || l.withoutContext > 0);
      return broken ? `capacity: ${server} at ${broken.calls} calls: ${broken.failed} failed ${JSON.stringify(broken.failures)}, ${broken.withoutContext} without context` : false;
    }),
    capacity.profiles.some((p) => p.model.parts.length === 0) && 'capacity: a profile has no samples',
    capacity.overload !== null &&
      (capacity.overload.unanswered > 0 || capacity.overload.refused === 0 || capacity.overload.withoutContext > 0) &&
      `capacity: past MAX_LIVE_CALLS ${capacity.overload.refused} refused, ${capacity.overload.unanswered} neither answered nor refused and ${capacity.overload.withoutContext} answered without context (expected some refused, none unanswered, none without context)`,
    // Side by side: every server measured in the same windows (at least 3), every call answered.
    ...sideBySide.rows.map(
      (row) =>
        (row.cores.length < 3 && `side by side: ${row.server}: ${row.cores.length} windows measured, expected at least 3`) ||
        ((row.level.failed > 0 || row.level.withoutContext > 0) &&
          `side by side: ${row.server} at ${row.level.calls} calls: ${row.level.failed} failed ${JSON.stringify(row.level.failures)}, ${row.level.withoutContext} without context`),
    ),
    ...prewarmBroken(prewarm),
    check.violationsFound !== check.violationsPlanted &&
      `check: found ${check.violationsFound} violations, ${check.violationsPlanted} planted`,
  ].filter(Boolean);
  if (broken.length > 0) {
    process.stderr.write(`bench: structural figures broken:\n  ${broken.join('\n  ')}\n`);
    process.exitCode = 1;
  }
} finally {
  await database.close();
  await telemetry.shutdown();
}
