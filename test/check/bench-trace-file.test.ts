import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { writeTraceFile } from '../../bench/trace-file.js';
import { checkTraces } from '../../src/check/check-traces.js';

it("the bench's generated traces (split across lines, late children, duplicates): found = planted", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-bench-'));
  try {
    const file = path.join(dir, 'traces.jsonl');
    const planted = await writeTraceFile(file, 20_000);
    const result = await checkTraces([file]);
    expect(planted).toBe(20);
    expect(result.violations).toHaveLength(planted);
    expect(result.spans).toBe(20_000);
    expect(result.duplicates).toBeGreaterThan(0);
    expect(result.calls).toBe(2_000);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
