/**
 * `npm run chaos -- --rounds N --seed S [--no-kill] [--no-db-cut] [--no-journal-fill] [--no-fuzz]`:
 * a longer chaos run for people. Prints the summary; exits 1 on any lost or
 * duplicated write, a crash the harness did not cause, a broken neighbour
 * call, or a run that acknowledged nothing.
 */
import { parseArgs } from 'node:util';
import { createChaosDatabase } from './chaos-database.js';
import { ChaosRun, formatSummary } from './harness.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    calls: { type: 'string', default: '3' },
    'max-minutes': { type: 'string', default: '15' },
    'no-kill': { type: 'boolean', default: false },
    'no-db-cut': { type: 'boolean', default: false },
    'no-journal-fill': { type: 'boolean', default: false },
    'no-fuzz': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
  strict: true,
});

function integer(name: string, value: string): number {
  if (!/^\d+$/.test(value)) {
    process.stderr.write(`chaos: --${name} must be a whole number (received ${JSON.stringify(value)})\n`);
    process.exit(2);
  }
  return Number(value);
}


const database = await createChaosDatabase(process.env.DATABASE_URL || undefined);
let exitCode = 1;
try {
  const run = new ChaosRun({
    databaseUrl: database.url,
    seed: integer('seed', values.seed),
    rounds: integer('rounds', values.rounds),
    callsPerRound: integer('calls', values.calls),
    maxDurationMs: integer('max-minutes', values['max-minutes']) * 60_000,
    faults: {
      kill: !values['no-kill'],
      dbCut: !values['no-db-cut'],
      journalFill: !values['no-journal-fill'],
      fuzz: !values['no-fuzz'],
    },
    ...(values.quiet ? {} : { log: (line: string) => process.stdout.write(`${line}\n`) }),
  });
  // Ctrl-C: no server, mount or temp file is left behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      run.cleanUpNow();
      process.stderr.write(`chaos: stopped by ${signal} (database ${database.url.replace(/:[^:@/]*@/, ':***@')} left in place)\n`);
      process.exit(130);
    });
  }
  const summary = await run.run();
  process.stdout.write(`${formatSummary(summary)}\n`);
  exitCode = summary.failures.length === 0 ? 0 : 1;
} finally {
  // Bounded: a database that will not drop must not keep the run alive.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([database.drop().catch((error: unknown) => process.stderr.write(`chaos: dropping the database failed: ${String(error)}\n`)), new Promise((resolve) => (timer = setTimeout(resolve, 15_000)))]);
  clearTimeout(timer);
}
process.exitCode = exitCode;
// The harness owns and closes everything it opens; should something still
// hold the event loop, the run ends all the same.
setTimeout(() => {
  process.stderr.write('chaos: a handle outlived the run; exiting\n');
  process.exit(exitCode);
}, 10_000).unref();
