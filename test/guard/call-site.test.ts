import path from 'node:path';
import { expect, it } from 'vitest';
import { callSiteOf } from '../../src/guard/call-site.js';
import { ROOT } from '../helpers/processes.js';

const frame = (where: string): string => `    at fn (${where}:10:5)`;

it.each([
  ['compiled (no source maps)', path.join(ROOT, 'dist/guard/live-call-guard-processor.js')],
  ['source-mapped', path.join(ROOT, 'src/guard/live-call-guard-processor.ts')],
  ['source-mapped, as a file URL', `file://${path.join(ROOT, 'src/guard/hooks/pg-query-hook.ts')}`],
])('starts at the first application frame, past the guard (%s), pg and knex', (_label, guardFrame) => {
  const site = new Error('call site');
  site.stack = [
    'Error: call site',
    frame(guardFrame),
    frame(path.join(ROOT, 'node_modules/@opentelemetry/sdk-trace/build/src/Tracer.js')),
    frame(path.join(ROOT, 'node_modules/@opentelemetry/instrumentation-pg/build/src/instrumentation.js')),
    frame(path.join(ROOT, 'node_modules/pg/lib/client.js')),
    frame(path.join(ROOT, 'node_modules/knex/lib/execution/runner.js')),
    frame('/srv/app/src/agent.ts'),
    frame('/srv/app/src/server.ts'),
  ].join('\n');
  expect(callSiteOf(site).split('\n')).toEqual([frame('/srv/app/src/agent.ts').trim(), frame('/srv/app/src/server.ts').trim()]);
});
