import type { JsonValue, WriteOperations } from '../buffer/write-operation.js';
import { describeZodError } from '../zod-error.js';
import type { RealtimeTool, ToolCallScope, ToolWrite } from './realtime-tool.js';

/** A tool call's answer: the output the model gets, and what the transcript records. */
export interface ToolAnswer {
  /** JSON text for `function_call_output` (bounded). */
  readonly output: string;
  /** False when the call was refused (unknown tool, bad arguments, a failure): the output says why. */
  readonly ok: boolean;
  readonly kind: 'read' | 'write' | 'unknown';
  /** A write tool's write: buffered and journaled (true), buffered in memory only (false). */
  readonly durable?: boolean;
}

function failure(kind: ToolAnswer['kind'], message: string, maxChars: number): ToolAnswer {
  return { output: bounded({ ok: false, error: message }, maxChars), ok: false, kind };
}

function bounded(value: JsonValue, maxChars: number): string {
  const text = JSON.stringify(value) ?? 'null';
  if (text.length <= maxChars) return text;
  return JSON.stringify({ ok: false, error: `the tool's answer was too long (${text.length} characters, at most ${maxChars})` });
}

/**
 * Answers one function call, synchronously, without I/O: finds the tool,
 * parses and validates its arguments, runs it (a write tool's write is
 * enqueued on the call's buffer). Never throws: whatever goes wrong becomes
 * an error output the model can recover from (it may say so, or try again).
 */
export function answerToolCall<TContext, TOps extends WriteOperations>(
  tools: ReadonlyMap<string, RealtimeTool<TContext, TOps>>,
  name: string,
  argumentsJson: string,
  scope: ToolCallScope<TContext, TOps>,
  maxChars: number,
): ToolAnswer {
  const tool = tools.get(name);
  if (!tool) return failure('unknown', `no tool named ${JSON.stringify(name)}; the tools are ${[...tools.keys()].join(', ') || 'none'}`, maxChars);
  let raw: unknown;
  try {
    raw = argumentsJson.trim() === '' ? {} : JSON.parse(argumentsJson);
  } catch {
    return failure(tool.kind, `the arguments of ${name} are not JSON`, maxChars);
  }
  const args = tool.parameters.safeParse(raw);
  if (!args.success) return failure(tool.kind, `invalid arguments for ${name}: ${describeZodError(args.error)}`, maxChars);
  try {
    if (tool.kind === 'read') return { output: bounded(tool.answer(args.data, scope), maxChars), ok: true, kind: 'read' };
    const decided = tool.write(args.data, scope);
    if ('refuse' in decided) return failure('write', String(decided.refuse), maxChars);
    const write = decided as ToolWrite<TOps>;
    // The write handle: enqueue only. Validation of the input is the operation's (InvalidWriteError names the field).
    const enqueued = (scope.call.writes.enqueue as (operation: string, input: unknown) => { journaled: boolean })(write.operation, write.input);
    const written = { durable: enqueued.journaled };
    const answer = tool.answer ? tool.answer(args.data, written, scope) : { ok: true, durable: written.durable };
    return { output: bounded(answer, maxChars), ok: true, kind: 'write', durable: written.durable };
  } catch (error) {
    return failure(tool.kind, `${name} failed: ${(error as Error)?.message ?? String(error)}`, maxChars);
  }
}
