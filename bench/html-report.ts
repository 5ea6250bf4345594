import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { round } from './measure.js';
import { writeTraceFile } from './trace-file.js';

export interface HtmlReportBench {
  spans: number;
  violations: number;
  /** `check` alone, then the report (a second read keeping the calls drawn, render, write). */
  checkSeconds: number;
  reportSeconds: number;
  fileMb: number;
  callsDrawn: number;
  callsListed: number;
  callsNotListed: number;
  peakRssMb: number;
}

/** `check --html` over a generated OTLP JSON lines file (1M spans; 20k in quick mode), in a child process. */
export async function benchHtmlReport(dir: string, options: { quick: boolean }): Promise<HtmlReportBench> {
  const spans = options.quick ? 20_000 : 1_000_000;
  await fs.mkdir(dir, { recursive: true });
  const input = path.join(dir, 'bench-html-traces.jsonl');
  const output = path.join(dir, 'bench-report.html');
  await writeTraceFile(input, spans);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/html-child.ts', input, output], { maxBuffer: 1 << 20 });
    const m = JSON.parse(stdout) as Omit<HtmlReportBench, 'fileMb' | 'peakRssMb'> & { bytes: number; maxRssMb: number };
    return {
      spans: m.spans,
      violations: m.violations,
      checkSeconds: round(m.checkSeconds, 2),
      reportSeconds: round(m.reportSeconds, 2),
      fileMb: round(m.bytes / 2 ** 20, 2),
      callsDrawn: m.callsDrawn,
      callsListed: m.callsListed,
      callsNotListed: m.callsNotListed,
      peakRssMb: round(m.maxRssMb, 1),
    };
  } finally {
    await fs.rm(input, { force: true });
    await fs.rm(output, { force: true });
  }
}
