// node --import tsx bench/journal-durability.ts [--runs 5] [--calls 20] [--writes 25]
// Enqueue-to-durable latency of the JetStream journal, R1 (one nats-server)
// and R3 (a 3-node cluster), on loopback: `calls` buffers enqueue `writes`
// writes each, one every 20 ms (a write per audio frame at most), and each
// write's time from enqueue to its `durable` promise resolving is recorded.
// Prints p50/p99 of every run and the median of the runs. Starts its own
// nats-server processes (/usr/sbin/nats-server) on free ports.
import { parseArgs } from 'node:util';
import { JetStreamJournal } from '../src/buffer/jetstream-journal.js';
import { WriteBuffer } from '../src/buffer/write-buffer.js';
import { receptionistWrites } from '../reference/operations.js';
import { startNatsCluster, startNatsServer } from '../test/helpers/nats-server.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, calls: { type: 'string', default: '20' }, writes: { type: 'string', default: '25' } },
});
const runs = Number(values.runs);
const calls = Number(values.calls);
const writes = Number(values.writes);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function oneRun(url: string, replicas: 1 | 3, run: number): Promise<{ p50: number; p99: number; n: number; notDurable: number }> {
  const journal = await JetStreamJournal.connect({ url, replicas, stream: `BENCH_R${replicas}_${run}`, subjectPrefix: `bench.r${replicas}.run${run}` });
  const latencies: number[] = [];
  let notDurable = 0;
  const call = async (n: number) => {
    const buffer = new WriteBuffer({ operations: receptionistWrites, callSid: `CA_BENCH_${run}_${n}`, tenantId: 1, bindings: { leadId: null, direction: 'inbound' }, journal });
    const pending: Array<Promise<void>> = [];
    for (let w = 0; w < writes; w++) {
      const started = process.hrtime.bigint();
      const write = buffer.enqueue('updateSession', { state: { w } });
      pending.push(
        write.durable.then((durable) => {
          if (!durable) notDurable++;
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(pending);
    buffer.close();
    buffer.journalFile?.markFlushed();
  };
  await Promise.all(Array.from({ length: calls }, (_, n) => call(n)));
  await journal.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), n: latencies.length, notDurable };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const replicas of [1, 3] as const) {
  const servers = replicas === 1 ? await startNatsServer('bench') : await startNatsCluster('bench');
  const url = 'node' in servers ? servers.node.url : servers.url;
  const results = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const result = await oneRun(url, replicas, run);
      results.push(result);
      console.log(`R${replicas} run ${run}: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms (${result.n} writes, ${result.notDurable} not durable)`);
    }
  } finally {
    await servers.stop();
  }
  console.log(
    `R${replicas} median of ${runs} runs: p50 ${median(results.map((r) => r.p50)).toFixed(2)} ms, p99 ${median(results.map((r) => r.p99)).toFixed(2)} ms`,
  );
}
