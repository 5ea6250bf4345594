import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This folder: the guard's own frames are not the application's call site. */
const TELEMETRY_DIR = path.dirname(fileURLToPath(import.meta.url));
const FRAMES_KEPT = 12;
const FRAMES_CAPTURED = 64;

/** Frames of the tracing machinery itself: never a call site. */
function isTracingFrame(frame: string): boolean {
  return frame.includes(TELEMETRY_DIR) || frame.includes('@opentelemetry') || frame.includes('node:internal');
}

function isLibraryFrame(frame: string): boolean {
  return isTracingFrame(frame) || frame.includes('node_modules') || /\(node:[a-z_]+/.test(frame) || frame.includes('<anonymous>');
}

/**
 * The application's call site of the code running now: the current stack
 * without the frames of OpenTelemetry, pg, knex, Node internals and this
 * guard. A query started from a timer or callback has no application frame
 * left on the stack (Node keeps async frames only across `await`): then the
 * client library's frames, without the tracing machinery's.
 */
export function captureCallSite(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = FRAMES_CAPTURED;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stack.split('\n').slice(1).map((frame) => frame.trim());
  const application = frames.filter((frame) => !isLibraryFrame(frame));
  const kept = application.length > 0 ? application : frames.filter((frame) => !isTracingFrame(frame));
  return kept.slice(0, FRAMES_KEPT).join('\n');
}
