import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's root (this file is in src/guard or dist/guard). */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * The guard's own folders: compiled, and as source maps name them (with
 * `--enable-source-maps` a frame of dist/guard/x.js reads src/guard/x.ts).
 */
const GUARD_DIRS = [path.join(PACKAGE_ROOT, 'src', 'guard') + path.sep, path.join(PACKAGE_ROOT, 'dist', 'guard') + path.sep];
const FRAMES_KEPT = 12;
const FRAMES_CAPTURED = 64;

/** Frames of the tracing machinery itself: never a call site. */
function isTracingFrame(frame: string): boolean {
  return GUARD_DIRS.some((dir) => frame.includes(dir)) || frame.includes('@opentelemetry') || frame.includes('node:internal');
}

/** Frames of a client library (pg, knex, any dependency), Node's own or anonymous: not the application's. */
function isLibraryFrame(frame: string): boolean {
  return isTracingFrame(frame) || frame.includes('node_modules') || /\(node:[a-z_]+/.test(frame) || frame.includes('<anonymous>');
}

/** An Error holding the current stack, deep enough to reach past the client libraries. */
export function captureStack(): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = FRAMES_CAPTURED;
  const site = new Error('call site');
  Error.stackTraceLimit = limit;
  return site;
}

/**
 * The application's call site in a captured stack: its frames without those
 * of OpenTelemetry, pg, knex, Node internals and this guard, starting at the
 * first application frame. When no application frame is left (a query
 * started from a timer has none: Node keeps async frames only across
 * `await`), the client library's frames, without the tracing machinery's.
 */
export function callSiteOf(site: Error): string {
  const frames = (site.stack ?? '')
    .split('\n')
    .slice(1)
    .map((frame) => frame.trim())
    .filter((frame) => frame.startsWith('at '));
  const application = frames.filter((frame) => !isLibraryFrame(frame));
  const kept = application.length > 0 ? application : frames.filter((frame) => !isTracingFrame(frame));
  return kept.slice(0, FRAMES_KEPT).join('\n');
}

/** The application's call site of the code running now. */
export function captureCallSite(): string {
  return callSiteOf(captureStack());
}
