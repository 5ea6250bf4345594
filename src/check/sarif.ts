import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IO_KINDS, type IoKind } from '../guard/io-span.js';
import type { CheckResult } from './check-traces.js';
import { printable } from './printable.js';
import type { TraceViolation } from './trace-checker.js';

/** How `formatSarif` places results. */
export interface SarifOptions {
  /** Paths of results are relative to this folder (`--source-root`). Default `process.cwd()`. */
  sourceRoot?: string;
  /** `tool.driver.version`. Default none. */
  toolVersion?: string;
}

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const RULE_PREFIX = 'live-call-guard';

const RULE_TEXT: Record<IoKind, { name: string; short: string; full: string }> = {
  db: {
    name: 'DatabaseQueryDuringLiveCall',
    short: 'Database query during a live call',
    full: 'A database statement ran while a call was live: the caller waits for it. Load what the call needs at its start; buffer writes and flush them at its end.',
  },
  http: {
    name: 'HttpRequestDuringLiveCall',
    short: 'HTTP request during a live call',
    full: 'An HTTP request outside the allowlist ran while a call was live: the turn waits for it. Fetch it before the call, move it off the turn, or allowlist the host if it is one of the call\'s own media links.',
  },
  redis: {
    name: 'RedisCommandDuringLiveCall',
    short: 'Redis command during a live call',
    full: 'A Redis command ran while a call was live: the turn waits for its round trip. Load what the call needs at its start.',
  },
  messaging: {
    name: 'MessagingDuringLiveCall',
    short: 'Messaging call during a live call',
    full: 'A messaging client call ran while a call was live.',
  },
  rpc: {
    name: 'RpcDuringLiveCall',
    short: 'RPC during a live call',
    full: 'An RPC ran while a call was live: the turn waits for it.',
  },
};

/** The rule id of an I/O kind: `live-call-guard/db`, `live-call-guard/http`, ... */
export function sarifRuleId(kind: IoKind): string {
  return `${RULE_PREFIX}/${kind}`;
}

/** The first application frame's file, line and column (frames of node_modules and Node skipped): `at f (/a/b.ts:12:5)`, `at /a/b.ts:12:5`, `at file:///a/b.ts:12:5`. */
export function frameLocation(stack: string | undefined): { file: string; line: number; column: number } | undefined {
  for (const frame of stack?.split('\n') ?? []) {
    const match = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?\s*$/.exec(frame.trim());
    if (!match) continue;
    let file = match[1]!;
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file);
      } catch {
        continue;
      }
    }
    if (file.startsWith('node:') || file.includes('/node_modules/') || file.includes('\\node_modules\\')) continue;
    return { file, line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}

/**
 * The check as SARIF 2.1.0 (GitHub code scanning's upload format): one rule
 * per I/O kind, one result per violation located at its first application
 * frame, path relative to `sourceRoot` (uriBaseId `%SRCROOT%`). A violation
 * without a frame in the source root is located at the trace file's line.
 * Text from traces is made printable (no control or bidi character).
 */
export function formatSarif(result: CheckResult, options: SarifOptions = {}): string {
  const root = path.resolve(options.sourceRoot ?? process.cwd());
  const rules = IO_KINDS.map((kind) => ({
    id: sarifRuleId(kind),
    name: RULE_TEXT[kind].name,
    shortDescription: { text: RULE_TEXT[kind].short },
    fullDescription: { text: RULE_TEXT[kind].full },
    defaultConfiguration: { level: 'error' },
    properties: { tags: ['latency', 'live-call', kind] },
  }));
  const sarif = {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'live-call-guard',
            informationUri: 'https://www.npmjs.com/package/live-call-guard',
            ...(options.toolVersion ? { version: options.toolVersion } : {}),
            rules,
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(`${root}${path.sep}`).href } },
        results: result.violations.map((violation) => sarifResult(violation, root)),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function sarifResult(violation: TraceViolation, root: string): object {
  const frame = frameLocation(violation.stack);
  const inRoot = frame && isInside(root, frame.file) ? frame : undefined;
  const traceFile = path.resolve(violation.source.file);
  const location = inRoot
    ? { file: inRoot.file, region: { startLine: inRoot.line, startColumn: inRoot.column } }
    : { file: traceFile, region: { startLine: Math.max(1, violation.source.line) } };
  const artifactLocation = isInside(root, location.file)
    ? { uri: relativeUri(root, location.file), uriBaseId: '%SRCROOT%' }
    : { uri: pathToFileURL(location.file).href };
  const what = violation.query ? printable(violation.query.replace(/[ \t\r\n]+/g, ' ').trim()) : printable(violation.spanName);
  const call = violation.callSid === undefined ? 'a live call' : `live call ${printable(violation.callSid)}`;
  return {
    ruleId: sarifRuleId(violation.kind),
    ruleIndex: IO_KINDS.indexOf(violation.kind),
    level: 'error',
    message: { text: `${RULE_TEXT[violation.kind].short}${violation.blocked ? ' (blocked)' : ''}: ${what} — in ${call}, trace ${violation.traceId}` },
    locations: [{ physicalLocation: { artifactLocation, region: location.region } }],
    partialFingerprints: { 'liveCallGuard/v1': `${violation.kind}:${artifactLocation.uri}:${location.region.startLine}` },
    properties: {
      traceId: violation.traceId,
      ...(violation.callSid === undefined ? {} : { callSid: printable(violation.callSid) }),
      ...(violation.spanId === undefined ? {} : { spanId: violation.spanId }),
      blocked: violation.blocked,
      traceFile: `${printable(violation.source.file)}:${violation.source.line}`,
    },
  };
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** A path inside `root`, relative to it, as a URI reference (forward slashes, each segment encoded). */
function relativeUri(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).map(encodeURIComponent).join('/');
}
