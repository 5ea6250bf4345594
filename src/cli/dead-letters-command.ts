import { parseArgs } from 'node:util';
import path from 'node:path';
import { listDeadLetters, replayDeadLetters } from '../buffer/dead-letter-replay.js';
import { DEAD_LETTER_DIR } from '../buffer/journal.js';
import type { CliIo } from './io.js';
import { DEAD_LETTERS_USAGE } from './usage.js';

/**
 * `live-call-guard dead-letters list|replay --journal-dir DIR [FILE...]`:
 * lists the dead letters, or re-lands them once (DATABASE_URL) with the
 * declarations each letter carries. Exit 0: done (replay: every letter
 * landed); 1: some letters could not land; 2: bad arguments.
 */
export async function deadLettersCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { 'journal-dir': { type: 'string' }, format: { type: 'string', default: 'text' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    io.stderr.write(`live-call-guard dead-letters: ${(error as Error).message}\n\n${DEAD_LETTERS_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [action, ...files] = positionals;
  const fail = (what: string) => {
    io.stderr.write(`live-call-guard dead-letters: ${what}\n\n${DEAD_LETTERS_USAGE}`);
    return 2;
  };
  if (action !== 'list' && action !== 'replay') return fail(`the action must be list or replay (received ${JSON.stringify(action ?? '')})`);
  const journalDir = values['journal-dir'] ?? env.JOURNAL_DIR;
  if (!journalDir) return fail('--journal-dir DIR (or JOURNAL_DIR) is required');
  if (values.format !== 'text' && values.format !== 'json') return fail(`--format must be text or json (received ${JSON.stringify(values.format)})`);
  const dir = path.join(path.resolve(journalDir), DEAD_LETTER_DIR);

  if (action === 'list') {
    const letters = listDeadLetters(dir);
    if (values.format === 'json') io.stdout.write(`${JSON.stringify(letters)}\n`);
    else {
      for (const letter of letters) {
        io.stdout.write(`${letter.file}  call ${letter.callSid ?? '?'}  tenant ${String(letter.tenantId ?? '?')}  ${letter.writes} write(s)${letter.replayable ? '' : '  (not replayable)'}  ${letter.reason}\n`);
      }
      io.stdout.write(`${letters.length} dead letter(s) in ${dir}\n`);
    }
    return 0;
  }

  const url = env.DATABASE_URL;
  if (!url) return fail('replay needs DATABASE_URL');
  const { default: knexFactory } = await import('knex');
  const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
  try {
    const replays = await replayDeadLetters({ knex, dir, ...(files.length > 0 ? { files } : {}) });
    if (values.format === 'json') io.stdout.write(`${JSON.stringify(replays)}\n`);
    else {
      for (const replay of replays) {
        io.stdout.write(`${replay.file}  ${replay.status}  landed ${replay.landed}, still dead ${replay.rejected}${replay.reason ? `  ${replay.reason}` : ''}\n`);
      }
      io.stdout.write(`${replays.filter((replay) => replay.status === 'landed').length} of ${replays.length} dead letter(s) landed\n`);
    }
    return replays.every((replay) => replay.status === 'landed') ? 0 : 1;
  } finally {
    await knex.destroy();
  }
}
