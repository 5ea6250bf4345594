// npm run bench:capacity [-- --quick] [-- --runs 3] [-- --levels 250,500] [-- --steady-s 10] [-- --profile-levels 250,750]
//   [-- --overload-limit 500] [-- --workers 2]:
// only the capacity table (bench/run.ts prints it with everything else).
// Written to bench/results/capacity.{json,md} (capacity-quick.* with --quick).
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../../reference/db/database.js';
import { capacityMarkdown } from './capacity-report.js';
import { benchCapacity } from './run-capacity.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    levels: { type: 'string' },
    'steady-s': { type: 'string' },
    runs: { type: 'string' },
    'profile-levels': { type: 'string' },
    'overload-limit': { type: 'string' },
    workers: { type: 'string' },
  },
});
/** A flag's comma-separated whole numbers, or exit 2 naming what was wrong. */
function wholeNumbers(flag: string, text: string | undefined, min: number): number[] | undefined {
  if (text === undefined) return undefined;
  const numbers = text.split(',').filter(Boolean).map(Number);
  if (numbers.some((n) => !Number.isInteger(n) || n < min)) {
    process.stderr.write(`bench:capacity: --${flag} takes whole numbers >= ${min}, comma-separated (received ${JSON.stringify(text)})\n`);
    process.exit(2);
  }
  return numbers;
}
const levels = wholeNumbers('levels', values.levels, 1);
const steadyS = wholeNumbers('steady-s', values['steady-s'], 1)?.[0];
const runs = wholeNumbers('runs', values.runs, 1)?.[0];
const profileLevels = wholeNumbers('profile-levels', values['profile-levels'], 1);
const overloadLimit = wholeNumbers('overload-limit', values['overload-limit'], 0)?.[0];
const workers = wholeNumbers('workers', values.workers, 1)?.[0];

const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: path.resolve('.data/bench') });
try {
  const result = await benchCapacity({
    quick: values.quick ?? false,
    databaseUrl: database.connectionString,
    ...(levels ? { levels } : {}),
    ...(steadyS ? { steadyMs: steadyS * 1000 } : {}),
    ...(runs ? { runs } : {}),
    ...(profileLevels ? { profileLevels } : {}),
    ...(overloadLimit !== undefined ? { overloadLimit } : {}),
    ...(workers ? { workers } : {}),
  });
  const markdown = capacityMarkdown(result).join('\n');
  await fs.mkdir('bench/results', { recursive: true });
  const name = values.quick ? 'capacity-quick' : workers && workers > 1 ? `capacity-workers-${workers}` : 'capacity';
  await fs.writeFile(`bench/results/${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
  await fs.writeFile(`bench/results/${name}.md`, `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
} finally {
  await database.close();
}
