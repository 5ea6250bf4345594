import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { round } from './measure.js';
import { writeTraceFile } from './trace-file.js';

export interface CheckThroughput {
  spans: number;
  fileMb: number;
  violationsPlanted: number;
  violationsFound: number;
  /** Live calls judged; spans read twice (ignored). */
  calls: number;
  duplicates: number;
  spansPerSecond: number;
  peakRssMb: number;
}

/** `live-call-guard check` over a generated OTLP JSON lines file, in a child process. */
export async function benchCheckThroughput(dir: string, options: { quick: boolean }): Promise<CheckThroughput> {
  const spans = options.quick ? 100_000 : 1_000_000;
  const file = path.join(dir, 'bench-traces.jsonl');
  await fs.mkdir(dir, { recursive: true });
  const violationsPlanted = await writeTraceFile(file, spans);
  const { size } = await fs.stat(file);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/check-child.ts', file], {
      maxBuffer: 1 << 20,
    });
    const measured = JSON.parse(stdout) as {
      spans: number;
      duplicates: number;
      calls: number;
      violations: number;
      seconds: number;
      maxRssMb: number;
    };
    return {
      spans: measured.spans,
      fileMb: round(size / 2 ** 20, 1),
      violationsPlanted,
      violationsFound: measured.violations,
      calls: measured.calls,
      duplicates: measured.duplicates,
      spansPerSecond: round((measured.spans + measured.duplicates) / measured.seconds, 0),
      peakRssMb: round(measured.maxRssMb, 1),
    };
  } finally {
    await fs.rm(file, { force: true });
  }
}
