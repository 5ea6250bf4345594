import { parseArgs } from 'node:util';
import { checkTraces } from '../telemetry/check/check-traces.js';
import { checkExitCode, formatJson, formatText } from '../telemetry/check/format.js';
import type { CliIo } from './main.js';

export const CHECK_USAGE = `Usage: live-call-guard check FILE... [--format text|json] [--allow-no-calls] [--expect-calls N]

Fails (exit 1) when exported traces show a database query during a live call.
FILE: OTLP JSON lines (Collector file exporter, LIVE_CALL_TRACE_FILE), one
OTLP document, a Jaeger v2 api_v3 answer, or Jaeger JSON; - reads stdin.
The order of lines and files does not matter; a span read twice counts once.
Exit codes: 0 no violation; 1 violations found; 2 the input could not (all)
be read, held no span, held no live call (unless --allow-no-calls), or held
fewer live calls than --expect-calls N.
`;

/** `live-call-guard check`: the offline guard over trace files. */
export async function checkCommand(args: string[], io: CliIo, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'text' },
        'allow-no-calls': { type: 'boolean', default: false },
        'expect-calls': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.stderr.write(`live-call-guard check: ${(error as Error).message}\n\n${CHECK_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(CHECK_USAGE);
    return 0;
  }
  if (values.format !== 'text' && values.format !== 'json') {
    io.stderr.write(`live-call-guard check: --format must be text or json (received ${JSON.stringify(values.format)})\n`);
    return 2;
  }
  const expectCalls = values['expect-calls'] === undefined ? undefined : Number(values['expect-calls']);
  if (expectCalls !== undefined && (!Number.isInteger(expectCalls) || expectCalls < 1)) {
    io.stderr.write(`live-call-guard check: --expect-calls must be a positive integer (received ${JSON.stringify(values['expect-calls'])})\n`);
    return 2;
  }
  if (positionals.length === 0) {
    io.stderr.write(`live-call-guard check: no FILE given\n\n${CHECK_USAGE}`);
    return 2;
  }
  const result = await checkTraces(positionals, { stdin });
  const gate = { allowNoCalls: values['allow-no-calls'], ...(expectCalls === undefined ? {} : { expectCalls }) };
  io.stdout.write(values.format === 'json' ? formatJson(result, gate) : formatText(result, gate));
  return checkExitCode(result, gate);
}
