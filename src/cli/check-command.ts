import fs from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { checkTraces, type CheckResult } from '../check/check-traces.js';
import { checkVerdict, formatJson, formatText } from '../check/format.js';
import { formatSarif } from '../check/sarif.js';
import { IoAllowlist } from '../guard/io-allowlist.js';
import { writeHtmlReport } from '../check/write-html-report.js';
import { packageVersion } from './version.js';
import type { CliIo } from './io.js';
import { CHECK_USAGE } from './usage.js';

export { CHECK_USAGE };

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
        html: { type: 'string' },
        'max-line-bytes': { type: 'string' },
        sarif: { type: 'string' },
        'window-span': { type: 'string', multiple: true },
        'window-attribute': { type: 'string', multiple: true },
        'allow-host': { type: 'string', multiple: true },
        'source-root': { type: 'string' },
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
  const maxLineBytes = values['max-line-bytes'] === undefined ? undefined : Number(values['max-line-bytes']);
  if (maxLineBytes !== undefined && (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1)) {
    io.stderr.write(`live-call-guard check: --max-line-bytes must be a positive integer (received ${JSON.stringify(values['max-line-bytes'])})\n`);
    return 2;
  }
  const windowSpans = values['window-span'] ?? [];
  const windowAttributes = (values['window-attribute'] ?? []).map((entry) => {
    const at = entry.indexOf('=');
    return at === -1 ? { key: entry } : { key: entry.slice(0, at), value: entry.slice(at + 1) };
  });
  const allowHosts = values['allow-host'] ?? [];
  const empty = [...windowSpans, ...windowAttributes.map((a) => a.key)].find((name) => name.trim() === '');
  if (empty !== undefined) {
    io.stderr.write('live-call-guard check: --window-span and --window-attribute need a name\n');
    return 2;
  }
  try {
    new IoAllowlist(allowHosts, '--allow-host');
  } catch (error) {
    io.stderr.write(`live-call-guard check: ${(error as Error).message}\n`);
    return 2;
  }
  if (values.sarif === '') {
    io.stderr.write('live-call-guard check: --sarif needs a file name\n');
    return 2;
  }
  if (positionals.length === 0) {
    io.stderr.write(`live-call-guard check: no FILE given\n\n${CHECK_USAGE}`);
    return 2;
  }
  const html = values.html;
  if (html === '') {
    io.stderr.write('live-call-guard check: --html needs a file name\n');
    return 2;
  }
  // The report reads the input twice; stdin is saved to a file for that.
  const spool = html !== undefined && positionals.includes('-') ? await mkdtemp(path.join(os.tmpdir(), 'lcg-check-')) : undefined;
  try {
    let inputs = positionals;
    if (spool) {
      const saved = path.join(spool, 'stdin');
      await pipeline(stdin, fs.createWriteStream(saved));
      inputs = positionals.map((input) => (input === '-' ? saved : input));
    }
    const readOptions = { stdin, ...(maxLineBytes === undefined ? {} : { maxLineBytes }) };
    const judged = { ...readOptions, windowSpans, windowAttributes, allowHosts };
    const result = await checkTraces(inputs, judged);
    if (spool) renameSource(result, path.join(spool, 'stdin'), '<stdin>');
    const gate = { allowNoCalls: values['allow-no-calls'], ...(expectCalls === undefined ? {} : { expectCalls }) };
    const verdict = checkVerdict(result, gate);
    io.stdout.write(values.format === 'json' ? formatJson(result, gate) : formatText(result, gate));
    if (values.sarif !== undefined) {
      try {
        await writeFile(values.sarif, formatSarif(result, { sourceRoot: values['source-root'] ?? process.cwd(), toolVersion: packageVersion() }));
      } catch (error) {
        io.stderr.write(`live-call-guard check: cannot write the SARIF file ${values.sarif}: ${(error as Error).message}\n`);
        return verdict.code === 1 ? 1 : 2;
      }
    }
    if (html !== undefined) {
      try {
        const stats = await writeHtmlReport(html, inputs, result, verdict, { inputNames: positionals }, readOptions);
        io.stderr.write(
          `live-call-guard check: HTML report written to ${html} (${Math.ceil(stats.bytes / 1024)} KB; ${stats.callsDrawn} calls drawn, ${stats.callsListed} listed${stats.callsNotListed > 0 ? `, ${stats.callsNotListed} more counted` : ''})\n`,
        );
      } catch (error) {
        io.stderr.write(`live-call-guard check: cannot write the HTML report ${html}: ${(error as Error).message}\n`);
        return verdict.code === 1 ? 1 : 2;
      }
    }
    return verdict.code;
  } finally {
    if (spool) await rm(spool, { recursive: true, force: true });
  }
}

/** Messages name the saved copy of stdin as `<stdin>`, as without --html. */
function renameSource(result: CheckResult, file: string, name: string): void {
  for (const entry of [...result.violations.map((v) => v.source), ...result.skipped]) if (entry.file === file) entry.file = name;
}
