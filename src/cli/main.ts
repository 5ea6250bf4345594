import { checkCommand } from './check-command.js';
import { serveCommand } from './serve-command.js';
import { simulateCommand } from './simulate-command.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `Usage: live-call-guard <command> [options]

Commands:
  serve     run the media-stream server [--agent receptionist|naive] (PORT, HOST, DATABASE_URL, LIVE_CALL_GUARD, ...)
  check     fail when exported traces show a database query during a live call
  simulate  place simulated Twilio calls against a server
  help      show this text
`;

/**
 * The `live-call-guard` command line. Returns the exit code; only the bin
 * sets it. Errors print as one line naming what was wrong.
 */
export async function main(argv: string[], io: CliIo = process): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(rest, io);
      case 'check':
        return await checkCommand(rest, io);
      case 'simulate':
        return await simulateCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
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
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}
