// Runs `check` then writes its HTML report, in a process of its own, and
// prints { checkSeconds, reportSeconds, bytes, callsDrawn, ... } as JSON.
import { checkTraces } from '../src/check/check-traces.js';
import { checkVerdict } from '../src/check/format.js';
import { writeHtmlReport } from '../src/check/write-html-report.js';

const [input, output] = process.argv.slice(2) as [string, string];
const start = process.hrtime.bigint();
const result = await checkTraces([input]);
const checked = process.hrtime.bigint();
const stats = await writeHtmlReport(output, [input], result, checkVerdict(result));
const done = process.hrtime.bigint();
process.stdout.write(
  `${JSON.stringify({
    spans: result.spans,
    violations: result.violations.length,
    checkSeconds: Number(checked - start) / 1e9,
    reportSeconds: Number(done - checked) / 1e9,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    ...stats,
  })}\n`,
);
