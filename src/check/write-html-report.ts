import fs from 'node:fs/promises';
import { CallTimelineCollector } from './call-timeline.js';
import { forEachSpan, type CheckResult, type CheckTracesOptions } from './check-traces.js';
import type { CheckVerdict } from './format.js';
import { renderHtmlReport } from './html-report.js';
import { selectCalls, validateCaps, type ReportCaps } from './report-selection.js';

/** The HTML report's limits; every default is in `ReportCaps` and `CallTimelineOptions`. */
export interface HtmlReportOptions extends ReportCaps {
  /** Statements drawn per call; the rest are counted. Default 300. */
  maxStatementsPerCall?: number;
  /** How the report names the inputs. Default: the inputs as given. */
  inputNames?: string[];
  /** When the report says it was made. Default now. */
  now?: Date;
}

/** What was written. */
export interface HtmlReportStats {
  bytes: number;
  callsDrawn: number;
  callsListed: number;
  callsNotListed: number;
}

/**
 * Writes the HTML report of a check to `file`. The inputs are read a second
 * time, keeping only the spans of the calls drawn in full (the checker
 * keeps no span), so memory and file size follow the caps, not the input.
 * Stdin cannot be read twice: the caller saves it to a file first.
 */
export async function writeHtmlReport(
  file: string,
  inputs: string[],
  result: CheckResult,
  verdict: CheckVerdict,
  options: HtmlReportOptions = {},
  readOptions: CheckTracesOptions = {},
): Promise<HtmlReportStats> {
  const { maxStatementsPerCall = 300, now = new Date(), inputNames = inputs, ...caps } = options;
  validateCaps(caps);
  if (!Number.isInteger(maxStatementsPerCall) || maxStatementsPerCall < 1) {
    throw new TypeError(`maxStatementsPerCall must be a positive integer (received ${JSON.stringify(maxStatementsPerCall)})`);
  }
  const selection = selectCalls(result, caps);
  const collector = new CallTimelineCollector(selection.full, selection.violationsByTrace, { maxStatements: maxStatementsPerCall });
  if (selection.full.length > 0) {
    // Whatever is unreadable was already counted by the check.
    await forEachSpan(inputs, (span) => collector.add(span), () => undefined, readOptions);
  }
  const html = renderHtmlReport({
    inputs: inputNames,
    result,
    verdict,
    timelines: collector.timelines(),
    listed: selection.listed,
    notListed: selection.notListed,
    generatedAt: now,
  });
  await fs.writeFile(file, html);
  return {
    bytes: Buffer.byteLength(html),
    callsDrawn: selection.full.length,
    callsListed: selection.listed.length,
    callsNotListed: selection.notListed,
  };
}
