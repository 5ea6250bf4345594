// The command line's help texts. This module imports nothing, so `--help`
// and `--version` work without loading a command (or its dependencies).

export const USAGE = `Usage: live-call-guard <command> [options]

Commands:
  check     fail when exported traces show a database query during a live call
  dead-letters  list the writes that could not land, or re-land them once after a fix
  help      show this text

Options:
  --version  print the version
  --help     show this text; "live-call-guard <command> --help" shows a command's
`;

export const CHECK_USAGE = `Usage: live-call-guard check FILE... [--format text|json] [--allow-no-calls] [--expect-calls N]
                            [--html REPORT.html] [--sarif FILE [--source-root DIR]]
                            [--window-span NAME]... [--window-attribute KEY[=VALUE]]...
                            [--allow-host HOST]... [--max-line-bytes N]

Fails (exit 1) when exported traces show a database query, or other outbound
I/O (HTTP, Redis, messaging, RPC), during a live call.
FILE: OTLP JSON lines (Collector file exporter, LIVE_CALL_TRACE_FILE), one
OTLP document, a Jaeger v2 api_v3 answer, or Jaeger JSON; - reads stdin.
The order of lines and files does not matter; a span read twice counts once.
Exit codes: 0 no violation; 1 violations found; 2 the input could not (all)
be read, held no span, held no live call (unless --allow-no-calls), or held
fewer live calls than --expect-calls N.
--html REPORT.html also writes one self-contained page (no network): each
call's phases and database statements on a time axis, violations first.
--sarif FILE writes SARIF 2.1.0 (GitHub code scanning): one result per
violation at its first application frame, relative to --source-root (default
the current folder); rule ids live-call-guard/db, /http, /redis, ...
--window-span NAME (repeatable) also counts spans named NAME as live windows
(Pipecat's conversation/turn, LiveKit's agent_session); --window-attribute
KEY or KEY=VALUE those carrying that attribute. --allow-host HOST (exact,
*.domain) allows I/O to that host, as the runtime's allowHosts.
Hostile input is bounded: a line over --max-line-bytes (default 64 MiB; a
zero-filled tail with no newline) or nested deeper than 256 levels is skipped
and listed, and the lines after it are read. Text output shows control and
bidi characters from traces as escapes (\x1b, \u202e).
`;

export const DEAD_LETTERS_USAGE = `Usage: live-call-guard dead-letters list|replay --journal-dir DIR [FILE...] [--format text|json]

list: the dead letters in DIR/dead-letter (file, call, tenant, writes, reason).
replay: re-lands them (all, or the FILEs named) on DATABASE_URL, each once,
with the declarations each letter carries: the writes land in one transaction
as at the call's end (same idempotency keys), the letter moves to
dead-letter/replayed/; writes that still cannot land stay, in a new letter.
Exit codes: 0 done (replay: every letter landed); 1 some did not; 2 bad arguments.
`;

export const COMMAND_USAGE = { check: CHECK_USAGE, 'dead-letters': DEAD_LETTERS_USAGE } as const;

/** `--help` or `-h` among a command's arguments. */
export function asksForHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
