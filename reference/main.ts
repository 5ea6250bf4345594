// The reference app's entry: `node --import tsx reference/main.ts serve`
// (what `npm start` runs). `serve` starts telemetry before anything loads
// `pg`; then the command runs and its exit code is set here, only here.
const asksForHelp = process.argv.includes('--help') || process.argv.includes('-h');
if (process.argv[2] === 'serve' && !asksForHelp) {
  try {
    await import('./register.js');
  } catch (error) {
    process.stderr.write(`receptionist: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
const { main } = await import('./cli/main.js');
process.exitCode = await main(process.argv.slice(2));
