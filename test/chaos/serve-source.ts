// The server from source, for the chaos harness: what bin/live-call-guard.js
// does with dist/, spawned as `node --import tsx --import ./src/register.ts`.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(['serve']);
