import type { CheckResult } from './check-traces.js';
import { printable } from './printable.js';

/** What a gate that read nothing, or too little, must not call a pass. */
export interface CheckGateOptions {
  /** Pass input that has spans but no live call (`--allow-no-calls`). Default false. */
  allowNoCalls?: boolean;
  /** Fail (exit 2) when fewer live calls than this were judged (`--expect-calls N`). Default: none. */
  expectCalls?: number;
}

/** The exit code and, when the input was not enough to judge, why. */
export interface CheckVerdict {
  /** 0 pass; 1 violations; 2 the input could not (all) be read, or was not enough to judge. */
  code: 0 | 1 | 2;
  /** Why the input was not enough ("no spans read", "no live call in the input", ...). */
  problems: string[];
}

/**
 * The verdict. Violations exit 1 even when other parts were unreadable.
 * Otherwise exit 2 when: no span was read; some input was skipped; fewer
 * live calls than `expectCalls` were seen; or no live call at all was seen
 * (unless `allowNoCalls`). Only then 0.
 */
export function checkVerdict(result: CheckResult, options: CheckGateOptions = {}): CheckVerdict {
  const problems: string[] = [];
  if (result.spans === 0) problems.push('no spans read');
  else if (result.calls === 0 && !options.allowNoCalls && options.expectCalls === undefined) {
    problems.push('no live call in the input (pass --allow-no-calls if that is expected)');
  }
  if (options.expectCalls !== undefined && result.calls < options.expectCalls) {
    problems.push(`expected at least ${options.expectCalls} live ${options.expectCalls === 1 ? 'call' : 'calls'}, judged ${result.calls}`);
  }
  if (result.skippedCount > 0) problems.push(`${result.skippedCount} unreadable ${result.skippedCount === 1 ? 'part' : 'parts'} of the input`);
  if (result.violations.length > 0) return { code: 1, problems };
  return { code: problems.length > 0 ? 2 : 0, problems };
}

/** The exit code alone. */
export function checkExitCode(result: CheckResult, options: CheckGateOptions = {}): 0 | 1 | 2 {
  return checkVerdict(result, options).code;
}

/**
 * The JSON report (`--format json`), version 1. Stable: fields are only ever added.
 * `{ version, ok, problems, violations: [{ kind, traceId, callSid, spanId, spanName, query, stack, blocked, file, line }],
 *    skipped: [{ file, line, column?, byteOffset?, reason }], skippedCount,
 *    stats: { files, lines, spans, duplicates, traces, calls, judgedWithoutWholeTrace (always 0) } }`
 */
export function formatJson(result: CheckResult, options: CheckGateOptions = {}): string {
  const verdict = checkVerdict(result, options);
  return `${JSON.stringify(
    {
      version: 1,
      ok: verdict.code === 0,
      problems: verdict.problems,
      violations: result.violations.map(({ source, ...violation }) => ({
        kind: violation.kind,
        traceId: violation.traceId,
        callSid: violation.callSid ?? null,
        spanId: violation.spanId ?? null,
        spanName: violation.spanName,
        query: violation.query ?? null,
        stack: violation.stack ?? null,
        blocked: violation.blocked,
        file: source.file,
        line: source.line,
      })),
      skipped: result.skipped,
      skippedCount: result.skippedCount,
      stats: {
        files: result.files,
        lines: result.lines,
        spans: result.spans,
        duplicates: result.duplicates,
        traces: result.traces,
        calls: result.calls,
        // Kept for readers of version 1: traces are never judged early any more.
        judgedWithoutWholeTrace: 0,
      },
    },
    null,
    2,
  )}\n`;
}

/**
 * The text report (`--format text`): made to be read in a CI log. Every
 * string that came from the input is made printable first: no control or
 * bidi character from a trace reaches the terminal, and no line of the
 * report starts with text from a trace.
 */
export function formatText(result: CheckResult, options: CheckGateOptions = {}): string {
  const verdict = checkVerdict(result, options);
  const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  const counts =
    `${plural(result.calls, 'live call', 'live calls')} judged; ` +
    `${plural(result.traces, 'trace', 'traces')}, ${plural(result.spans, 'span', 'spans')}` +
    (result.duplicates > 0 ? ` (+${result.duplicates} duplicates ignored)` : '') +
    `, ${plural(result.files, 'file', 'files')}`;
  const out: string[] = [];
  const n = result.violations.length;
  if (n > 0) {
    const byKind = new Map<string, number>();
    for (const violation of result.violations) byKind.set(violation.kind, (byKind.get(violation.kind) ?? 0) + 1);
    const what =
      byKind.size === 1 && byKind.has('db')
        ? `${n} database ${n === 1 ? 'query' : 'queries'}`
        : `${n} outbound I/O ${n === 1 ? 'request' : 'requests'} (${[...byKind].map(([kind, count]) => `${kind} ${count}`).join(', ')})`;
    out.push(`live-call-guard check: FAIL — ${what} during live calls (${counts})`);
  } else if (verdict.code === 2) {
    out.push(`live-call-guard check: INCOMPLETE — ${verdict.problems.join('; ')} (${counts})`);
  } else {
    out.push(`live-call-guard check: OK — no database query or other outbound I/O during a live call (${counts})`);
  }
  result.violations.forEach((violation, index) => {
    out.push('');
    out.push(
      `  ${index + 1}. call ${violation.callSid === undefined ? '(unknown)' : printable(violation.callSid)} · trace ${violation.traceId}` +
        (violation.spanId ? ` · span ${violation.spanId}` : '') +
        ` (${printable(violation.source.file)}:${violation.source.line})`,
    );
    out.push(`     ${violation.kind}: ${printable(violation.spanName)}${violation.blocked ? ' [blocked]' : ''}`);
    if (violation.query) out.push(`     ${violation.kind === 'db' ? 'query' : 'request'}: ${printable(violation.query.replace(/[ \t\r\n]+/g, ' ').trim())}`);
    for (const frame of violation.stack?.split('\n') ?? []) out.push(`     ${printable(frame.trim())}`);
  });
  if (result.skippedCount > 0) {
    out.push('');
    out.push(`skipped ${result.skippedCount} unreadable ${result.skippedCount === 1 ? 'part' : 'parts'} of the input:`);
    for (const entry of result.skipped) {
      out.push(`  ${printable(entry.file)}:${entry.line}${entry.column === undefined ? '' : `:${entry.column}`}: ${printable(entry.reason)}`);
    }
    if (result.skippedCount > result.skipped.length) out.push(`  … and ${result.skippedCount - result.skipped.length} more`);
  }
  return `${out.join('\n')}\n`;
}
