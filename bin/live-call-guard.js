#!/usr/bin/env node
// The command line runs and its exit code is set here, only here.
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
