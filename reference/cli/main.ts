import { asksForHelp, COMMAND_USAGE, USAGE } from './usage.js';

/** Where a command writes; `process` in main.ts, buffers in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * The reference app's command line (`npm start` = `serve`). Returns the
 * exit code; only reference/main.ts sets it. Errors print as one line.
 */
export async function main(argv: string[], io: CliIo = process): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
      case 'simulate':
        if (asksForHelp(rest)) {
          io.stdout.write(COMMAND_USAGE[command]);
          return 0;
        }
        return command === 'serve'
          ? await (await import('./serve-command.js')).serveCommand(rest, io)
          : await (await import('./simulate-command.js')).simulateCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return 0;
      default:
        io.stderr.write(`receptionist: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`receptionist: ${code && !message.includes(code) ? `${message} (${code})` : message}\n`);
    return 1;
  }
}
