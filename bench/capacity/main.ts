// npm run bench:capacity [-- --quick] [-- --runs 3] [-- --levels 250,500] [-- --steady-s 10] [-- --profile-levels 250,750]
//   [-- --overload-limit 500] [-- --workers 2] [-- --node /path/to/node]:
// only the capacity table (bench/run.ts prints it with everything else).
// Written to bench/results/capacity.{json,md} (capacity-quick.* with --quick,
// capacity-node<major>.* when --node runs the servers on another major).
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../../reference/db/database.js';
import { capacityMarkdown } from './capacity-report.js';
import { benchCapacity, nodeVersion } from './run-capacity.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    levels: { type: 'string' },
    'steady-s': { type: 'string' },
    runs: { type: 'string' },
    'profile-levels': { type: 'string' },
    'overload-limit': { type: 'string' },
    workers: { type: 'string' },
    node: { type: 'string' },
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
/** --node: the servers' Node binary, checked before anything starts. */
let serversNode: { path: string; major: string } | undefined;
if (values.node !== undefined) {
  try {
    serversNode = { path: path.resolve(values.node), major: /^v(\d+)\./.exec(nodeVersion(path.resolve(values.node)))?.[1] ?? '?' };
  } catch (error) {
    process.stderr.write(`bench:capacity: --node: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

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
    ...(serversNode ? { node: serversNode.path } : {}),
  });
  const markdown = capacityMarkdown(result).join('\n');
  await fs.mkdir('bench/results', { recursive: true });
  const ownMajor = process.versions.node.split('.')[0];
  const base = serversNode && serversNode.major !== ownMajor ? `capacity-node${serversNode.major}` : 'capacity';
  const name = values.quick ? `${base}-quick` : workers && workers > 1 ? `${base}-workers-${workers}` : base;
  await fs.writeFile(`bench/results/${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
  await fs.writeFile(`bench/results/${name}.md`, `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
} finally {
  await database.close();
}
