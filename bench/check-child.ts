// Runs `checkTraces` over one file in a process of its own and prints
// { spans, violations, seconds, maxRssMb } — so peak memory is the checker's.
import { checkTraces } from '../src/check/check-traces.js';

const start = process.hrtime.bigint();
const result = await checkTraces([process.argv[2]!]);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(
  `${JSON.stringify({ spans: result.spans, duplicates: result.duplicates, calls: result.calls, violations: result.violations.length, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
);
