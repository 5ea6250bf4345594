import type { CliIo } from './io.js';
import { asksForHelp, COMMAND_USAGE, USAGE } from './usage.js';
import { packageVersion } from './version.js';

export type { CliIo } from './io.js';

/**
 * The `live-call-guard` command line. Returns the exit code; only the bin
 * sets it. Errors print as one line naming what was wrong. The command's
 * module is loaded only when it runs: `--help`/`--version` load nothing.
 */
export async function main(argv: string[], io: CliIo = process): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'check':
        if (asksForHelp(rest)) {
          io.stdout.write(COMMAND_USAGE[command]);
          return 0;
        }
        return await (await import('./check-command.js')).checkCommand(rest, io);
      case 'dead-letters':
        if (asksForHelp(rest)) {
          io.stdout.write(COMMAND_USAGE[command]);
          return 0;
        }
        return await (await import('./dead-letters-command.js')).deadLettersCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return 0;
      case '--version':
      case '-v':
        io.stdout.write(`${packageVersion()}\n`);
        return 0;
      default:
        io.stderr.write(`live-call-guard: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    io.stderr.write(`live-call-guard: ${oneLine(error)}\n`);
    return 1;
  }
}

function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  const missing = code === 'ERR_MODULE_NOT_FOUND' ? missingPackage(error.message) : undefined;
  if (missing) return `this command needs the package ${missing}: npm install ${missing}`;
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

/** The package named by Node's "Cannot find package 'x' imported from ..." */
function missingPackage(message: string): string | undefined {
  return /Cannot find package '([^']+)'/.exec(message)?.[1];
}
