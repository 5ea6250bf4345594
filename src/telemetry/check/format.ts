import type { CheckResult } from './check-traces.js';

/** 0: no violation; 1: violations found; 2: no violation, but some input could not be read. */
export function checkExitCode(result: CheckResult): 0 | 1 | 2 {
  if (result.violations.length > 0) return 1;
  return result.skippedCount > 0 ? 2 : 0;
}

/**
 * The JSON report (`--format json`), version 1. Stable: fields are only ever added.
 * `{ version, ok, violations: [{ traceId, callSid, spanId, spanName, query, stack, blocked, file, line }],
 *    skipped: [{ file, line, reason }], skippedCount, stats: { files, lines, spans, traces, judgedWithoutWholeTrace } }`
 */
export function formatJson(result: CheckResult): string {
  return `${JSON.stringify(
    {
      version: 1,
      ok: checkExitCode(result) === 0,
      violations: result.violations.map(({ source, ...violation }) => ({
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
        traces: result.traces,
        judgedWithoutWholeTrace: result.judgedWithoutWholeTrace,
      },
    },
    null,
    2,
  )}\n`;
}

/** The text report (`--format text`): made to be read in a CI log. */
export function formatText(result: CheckResult): string {
  const counts = `${result.traces} traces, ${result.spans} spans, ${result.files} ${result.files === 1 ? 'file' : 'files'}`;
  const out: string[] = [];
  const n = result.violations.length;
  if (n === 0) {
    out.push(`live-call-guard check: ${result.skippedCount > 0 ? 'INCOMPLETE' : 'OK'} — no database query during a live call (${counts})`);
  } else {
    out.push(`live-call-guard check: FAIL — ${n} database ${n === 1 ? 'query' : 'queries'} during live calls (${counts})`);
  }
  result.violations.forEach((violation, index) => {
    out.push('');
    out.push(
      `  ${index + 1}. call ${violation.callSid ?? '(unknown)'} · trace ${violation.traceId}` +
        (violation.spanId ? ` · span ${violation.spanId}` : '') +
        ` (${violation.source.file}:${violation.source.line})`,
    );
    out.push(`     ${violation.spanName}${violation.blocked ? ' [blocked]' : ''}`);
    if (violation.query) out.push(`     query: ${violation.query.replace(/\s+/g, ' ').trim()}`);
    for (const frame of violation.stack?.split('\n') ?? []) out.push(`     ${frame.trim()}`);
  });
  if (result.skippedCount > 0) {
    out.push('');
    out.push(`skipped ${result.skippedCount} unreadable ${result.skippedCount === 1 ? 'part' : 'parts'} of the input:`);
    for (const entry of result.skipped) out.push(`  ${entry.file}:${entry.line}: ${entry.reason}`);
    if (result.skippedCount > result.skipped.length) out.push(`  … and ${result.skippedCount - result.skipped.length} more`);
  }
  if (result.judgedWithoutWholeTrace > 0) {
    out.push('');
    out.push(`note: ${result.judgedWithoutWholeTrace} traces were judged before they were whole (too many in flight)`);
  }
  return `${out.join('\n')}\n`;
}
