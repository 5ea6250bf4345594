// npm run bench:capacity [-- --quick] [-- --runs 3] [-- --levels 250,500] [-- --steady-s 10] [-- --profile-levels 250,750]
//   [-- --overload-limit 500] [-- --workers 2] [-- --node /path/to/node] [-- --refine 2]:
// only the capacity table (bench/run.ts prints it with everything else).
// npm run bench:capacity -- --pairs 6 --levels 750 [-- --steady-s 10] [-- --node …]:
// one level, window after window, each row over the floor in the same pair
// (bench/capacity/pairs.ts), written to bench/results/capacity[-node<major>]-pairs.*.
// npm run bench:capacity -- --side-by-side 350 [-- --floor-variants] [-- --steady-s 60] [-- --node …]:
// every server under that many calls at the same time, CPU over the floor's
// window by window (bench/capacity/side-by-side.ts), written to
// bench/results/capacity[-node<major>]-side-by-side[-variants].*.
// Written to bench/results/capacity.{json,md} (capacity-quick.* with --quick,
// capacity-node<major>.* when --node runs the servers on another major).
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../../reference/db/database.js';
import { capacityMarkdown } from './capacity-report.js';
import { benchPairs, pairsMarkdown } from './pairs.js';
import { benchCapacity, nodeVersion } from './run-capacity.js';
import { benchSideBySide, sideBySideMarkdown } from './side-by-side.js';

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
    pairs: { type: 'string' },
    refine: { type: 'string' },
    'cpu-pairs': { type: 'string' },
    'side-by-side': { type: 'string' },
    'floor-variants': { type: 'boolean', default: false },
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
const refine = wholeNumbers('refine', values.refine, 0)?.[0];
const cpuPairs = wholeNumbers('cpu-pairs', values['cpu-pairs'], 0)?.[0];
/** --node: the servers' Node binary, checked before anything starts. */
let serversNode: { path: string; version: string } | undefined;
if (values.node !== undefined) {
  try {
    serversNode = { path: path.resolve(values.node), version: nodeVersion(path.resolve(values.node)) };
  } catch (error) {
    process.stderr.write(`bench:capacity: --node: ${(error as Error).message}\n`);
    process.exit(2);
  }
}
const pairs = wholeNumbers('pairs', values.pairs, 1)?.[0];
if (pairs !== undefined && levels?.length !== 1) {
  process.stderr.write(`bench:capacity: --pairs runs one level: give it as --levels N (received ${JSON.stringify(values.levels ?? null)})\n`);
  process.exit(2);
}
const sideBySide = wholeNumbers('side-by-side', values['side-by-side'], 1)?.[0];
if (values['floor-variants'] && sideBySide === undefined) {
  process.stderr.write('bench:capacity: --floor-variants runs with --side-by-side N\n');
  process.exit(2);
}
const major = (version: string): string => version.replace(/^v/, '').split('.')[0]!;
/** Results of servers on another Node major than the bench's are named after it. */
const base = serversNode && major(serversNode.version) !== major(process.version) ? `capacity-node${major(serversNode.version)}` : 'capacity';

async function writeResults(name: string, result: unknown, markdown: string): Promise<void> {
  await fs.mkdir('bench/results', { recursive: true });
  await fs.writeFile(`bench/results/${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
  await fs.writeFile(`bench/results/${name}.md`, `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
}

const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: path.resolve('.data/bench') });
try {
  if (sideBySide !== undefined) {
    const result = await benchSideBySide({
      quick: false,
      databaseUrl: database.connectionString,
      calls: sideBySide,
      floorVariants: values['floor-variants'] ?? false,
      ...(steadyS ? { steadyMs: steadyS * 1000 } : {}),
      ...(serversNode ? { node: serversNode.path } : {}),
    });
    await writeResults(`${base}-side-by-side${values['floor-variants'] ? '-variants' : ''}`, result, sideBySideMarkdown(result).join('\n'));
  } else if (pairs !== undefined) {
    const result = await benchPairs({
      quick: false,
      databaseUrl: database.connectionString,
      pairs,
      calls: levels![0]!,
      ...(steadyS ? { steadyMs: steadyS * 1000 } : {}),
      ...(serversNode ? { node: serversNode.path } : {}),
    });
    await writeResults(`${base}-pairs`, result, pairsMarkdown(result).join('\n'));
  } else {
    const result = await benchCapacity({
      quick: values.quick ?? false,
      databaseUrl: database.connectionString,
      ...(levels ? { levels } : {}),
      ...(steadyS ? { steadyMs: steadyS * 1000 } : {}),
      ...(runs ? { runs } : {}),
      ...(profileLevels ? { profileLevels } : {}),
      ...(overloadLimit !== undefined ? { overloadLimit } : {}),
      ...(workers ? { workers } : {}),
      ...(refine !== undefined ? { refine } : {}),
      ...(cpuPairs !== undefined ? { cpuPairs } : {}),
      ...(serversNode ? { node: serversNode.path } : {}),
    });
    const name = values.quick ? `${base}-quick` : workers && workers > 1 ? `${base}-workers-${workers}` : base;
    await writeResults(name, result, capacityMarkdown(result).join('\n'));
  }
} finally {
  await database.close();
}
