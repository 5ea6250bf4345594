#!/usr/bin/env node
// Starts telemetry before anything loads `pg`, then runs the command line.
try {
  await import('../dist/register.js');
} catch (error) {
  process.stderr.write(`live-call-guard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
