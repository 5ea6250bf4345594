// npm run bench:capacity [-- --quick] [-- --levels 250,500] [-- --steady-s 10] [-- --profile-calls 500]:
// only the capacity table (bench/run.ts prints it with everything else).
// Written to bench/results/capacity.{json,md} (capacity-quick.* with --quick).
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../../reference/db/database.js';
import { benchCapacity, capacityMarkdown } from './run-capacity.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    levels: { type: 'string' },
    'steady-s': { type: 'string' },
    'profile-calls': { type: 'string' },
    workers: { type: 'string' },
  },
});
const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: path.resolve('.data/bench') });
try {
  const result = await benchCapacity({
    quick: values.quick ?? false,
    databaseUrl: database.connectionString,
    ...(values.levels ? { levels: values.levels.split(',').map(Number) } : {}),
    ...(values['steady-s'] ? { steadyMs: Number(values['steady-s']) * 1000 } : {}),
    ...(values['profile-calls'] ? { profileCalls: Number(values['profile-calls']) } : {}),
    ...(values.workers ? { workers: Number(values.workers) } : {}),
  });
  const markdown = capacityMarkdown(result).join('\n');
  await fs.mkdir('bench/results', { recursive: true });
  const name = values.quick ? 'capacity-quick' : values.workers && values.workers !== '1' ? `capacity-workers-${values.workers}` : 'capacity';
  await fs.writeFile(`bench/results/${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
  await fs.writeFile(`bench/results/${name}.md`, `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
} finally {
  await database.close();
}
