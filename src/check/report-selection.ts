import type { CheckResult } from './check-traces.js';
import type { TraceViolation } from './trace-checker.js';

/** How much of the input the HTML report draws. */
export interface ReportCaps {
  /** Calls with violations drawn in full (timeline + statement table), most violations first. Default 100. */
  maxViolationCalls?: number;
  /** Clean calls drawn in full after those, in input order. Default 20. */
  maxCleanCalls?: number;
  /** Calls past both caps, listed by call sid and trace id only; the rest are counted. Default 1000. */
  maxListedCalls?: number;
}

export const DEFAULT_REPORT_CAPS: Required<ReportCaps> = { maxViolationCalls: 100, maxCleanCalls: 20, maxListedCalls: 1000 };

/** A call named but not drawn. */
export interface ListedCall {
  traceId: string;
  callSid: string | undefined;
  violations: number;
}

export interface ReportSelection {
  /** Trace ids drawn in full: those with violations first (most first), then clean ones. */
  full: string[];
  listed: ListedCall[];
  /** Calls neither drawn nor listed. */
  notListed: number;
  /** Traces with violations (drawn or not). */
  violationsByTrace: Map<string, TraceViolation[]>;
}

/** Bad caps fail here, naming the option and what was received. */
export function validateCaps(caps: ReportCaps): Required<ReportCaps> {
  const merged = { ...DEFAULT_REPORT_CAPS, ...caps };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer (received ${JSON.stringify(value)})`);
  }
  return merged;
}

/**
 * Which calls (traces) the report draws: every trace with a violation
 * counts as a call (even one whose live span was not exported), then each
 * trace with a live-call span. Up to `maxViolationCalls` + `maxCleanCalls`
 * are drawn in full; up to `maxListedCalls` more are named; the rest counted.
 */
export function selectCalls(result: CheckResult, caps: ReportCaps = {}): ReportSelection {
  const { maxViolationCalls, maxCleanCalls, maxListedCalls } = validateCaps(caps);
  const violationsByTrace = new Map<string, TraceViolation[]>();
  for (const violation of result.violations) {
    const list = violationsByTrace.get(violation.traceId);
    if (list) list.push(violation);
    else violationsByTrace.set(violation.traceId, [violation]);
  }
  const bad = [...violationsByTrace.entries()]
    .sort((a, b) => b[1].length - a[1].length)
    .map(([traceId, list]) => ({ traceId, callSid: list.find((v) => v.callSid)?.callSid, violations: list.length }));
  const seen = new Set<string>(violationsByTrace.keys());
  const clean: ListedCall[] = [];
  for (const call of result.liveCalls) {
    if (seen.has(call.traceId)) continue;
    seen.add(call.traceId);
    clean.push({ traceId: call.traceId, callSid: call.callSid, violations: 0 });
  }
  const rest = [...bad.slice(maxViolationCalls), ...clean.slice(maxCleanCalls)];
  return {
    full: [...bad.slice(0, maxViolationCalls), ...clean.slice(0, maxCleanCalls)].map((c) => c.traceId),
    listed: rest.slice(0, maxListedCalls),
    notListed: Math.max(0, rest.length - maxListedCalls),
    violationsByTrace,
  };
}
