#!/usr/bin/env node
// Commands that run calls start telemetry before anything loads `pg`; then
// the command line runs and its exit code is set here, only here.
// `--help` starts nothing.
const TELEMETRY_COMMANDS = new Set(['serve']);
const asksForHelp = process.argv.includes('--help') || process.argv.includes('-h');
if (TELEMETRY_COMMANDS.has(process.argv[2]) && !asksForHelp) {
  try {
    await import('../dist/register.js');
  } catch (error) {
    process.stderr.write(`live-call-guard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
