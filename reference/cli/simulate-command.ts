import { parseArgs } from 'node:util';
import { SCENARIOS, simulate, type Scenario } from '../sim/simulate.js';
import type { CliIo } from './main.js';
import { SIMULATE_USAGE } from './usage.js';

export { SIMULATE_USAGE };

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`--${name} must be a positive integer (received ${JSON.stringify(value)})`);
  return Number(value);
}

/** `live-call-guard simulate`: a Twilio Media Streams load generator. Exit 0 when every call succeeded, 1 otherwise. */
export async function simulateCommand(args: string[], io: CliIo): Promise<number> {
  let options: Parameters<typeof simulate>[0];
  let json = false;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:8080' },
        calls: { type: 'string' },
        concurrency: { type: 'string' },
        duration: { type: 'string' },
        scenario: { type: 'string', default: 'mix' },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (!SCENARIOS.includes(values.scenario as Scenario)) {
      throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')} (received ${JSON.stringify(values.scenario)})`);
    }
    if (!URL.canParse(values.url!)) throw new Error(`--url must be a URL (received ${JSON.stringify(values.url)})`);
    json = values.json ?? false;
    const calls = positiveInteger('calls', values.calls, 10);
    const tty = 'isTTY' in io.stderr && Boolean(io.stderr.isTTY);
    options = {
      url: values.url!,
      calls,
      concurrency: positiveInteger('concurrency', values.concurrency, 10),
      durationMs: positiveInteger('duration', values.duration, 3) * 1000,
      scenario: values.scenario as Scenario,
      seed: positiveInteger('seed', values.seed, 1),
      authToken: process.env.TWILIO_AUTH_TOKEN || undefined,
      publicUrl: process.env.PUBLIC_URL || undefined,
      ...(tty ? { onProgress: (done: number, total: number) => io.stderr.write(`\r${progressBar(done, total)}${done === total ? '\n' : ''}`) } : {}),
    };
  } catch (error) {
    io.stderr.write(`live-call-guard simulate: ${(error as Error).message}\n\n${SIMULATE_USAGE}`);
    return 2;
  }

  const summary = await simulate(options);
  if (json) {
    io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const rtt = summary.markRttMs;
    io.stdout.write(
      [
        `calls: ${summary.calls}, ok ${summary.ok}, failed ${summary.failed} in ${summary.seconds.toFixed(1)} s`,
        `close codes: ${Object.entries(summary.closeCodes).map(([code, n]) => `${code}×${n}`).join(', ')}`,
        `mark round trip (DTMF → answering mark): ${rtt ? `p50 ${rtt.p50} ms, p95 ${rtt.p95} ms, p99 ${rtt.p99} ms` : 'no DTMF calls'}`,
        ...summary.results.filter((r) => !r.ok).slice(0, 10).map((r) => `  failed ${r.callSid} (${r.scenario}): ${r.error}`),
        '',
      ].join('\n'),
    );
  }
  return summary.failed === 0 ? 0 : 1;
}

function progressBar(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} calls`;
}
