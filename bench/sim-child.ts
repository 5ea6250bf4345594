// The simulator in a process of its own, so that its work does not load the
// server's event loop. Prints the summary (without the per-call list) as JSON.
import { simulate, type Scenario } from '../reference/sim/simulate.js';

const [url, calls, durationMs, scenario] = process.argv.slice(2) as [string, string, string, Scenario];
const { results, ...summary } = await simulate({
  url,
  calls: Number(calls),
  concurrency: Number(calls),
  durationMs: Number(durationMs),
  scenario,
  seed: 1,
});
const errors = [...new Set(results.filter((r) => !r.ok).map((r) => r.error))].slice(0, 3);
process.stdout.write(`${JSON.stringify({ ...summary, errors, callSids: results.map((r) => r.callSid) })}\n`);
