import { z } from 'zod';
import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';
import type { JsonValue, WriteInput, WriteOperations } from '../buffer/write-operation.js';
import { ConfigError } from '../errors.js';
import type { AgentCall } from '../twilio/agent.js';

/** What a tool sees of its call: the frozen context (null when the load failed) and the call. */
export interface ToolCallScope<TContext = unknown, TOps extends WriteOperations = WriteOperations> {
  readonly context: TContext | null;
  readonly call: AgentCall<TContext, TOps, never>;
}

/** One of the app's declared writes, as a write tool asks for it. */
export type ToolWrite<TOps extends WriteOperations> = {
  [K in keyof TOps & string]: { readonly operation: K; readonly input: WriteInput<TOps[K]> };
}[keyof TOps & string];

/** What a write tool returns instead of a write: the reason, told to the model (e.g. "that slot is taken"). */
export interface ToolRefusal {
  readonly refuse: string;
}

interface ToolBase<TArgs extends z.ZodType> {
  /** The function name the model calls: letters, digits, _ and -, at most 64. */
  readonly name: string;
  /** When and how to call it, for the model. */
  readonly description: string;
  /** The arguments, validated before the tool runs; sent to the model as JSON Schema. */
  readonly parameters: TArgs;
}

/**
 * A tool that reads: it answers from the frozen context (and in-process
 * state) with a pure function. No I/O: a query here is a guard violation.
 */
export interface ReadTool<TContext = unknown, TArgs extends z.ZodType = z.ZodType> extends ToolBase<TArgs> {
  readonly kind: 'read';
  answer(args: z.output<TArgs>, scope: ToolCallScope<TContext>): JsonValue;
}

/**
 * A tool that writes: from its validated arguments it names one of the app's
 * declared writes (buffered and journaled, landing at call end) or refuses.
 * `answer` says what the caller may be told; by default `{ ok: true, durable }`
 * where `durable` is true once the write is journaled (a crash cannot lose it).
 */
export interface WriteTool<TContext = unknown, TOps extends WriteOperations = WriteOperations, TArgs extends z.ZodType = z.ZodType>
  extends ToolBase<TArgs> {
  readonly kind: 'write';
  write(args: z.output<TArgs>, scope: ToolCallScope<TContext, TOps>): ToolWrite<TOps> | ToolRefusal;
  answer?(args: z.output<TArgs>, written: { readonly durable: boolean }, scope: ToolCallScope<TContext, TOps>): JsonValue;
}

export type RealtimeTool<TContext = unknown, TOps extends WriteOperations = WriteOperations> =
  | ReadTool<TContext, z.ZodType>
  | WriteTool<TContext, TOps, z.ZodType>;

/** Declares a read tool, typed by its parameters. */
export function readTool<TContext, TArgs extends z.ZodType>(tool: Omit<ReadTool<TContext, TArgs>, 'kind'>): ReadTool<TContext, TArgs> {
  return Object.freeze({ ...tool, kind: 'read' as const });
}

/** Declares a write tool, typed by its parameters and the app's operations. */
export function writeTool<TContext, TOps extends WriteOperations, TArgs extends z.ZodType>(
  tool: Omit<WriteTool<TContext, TOps, TArgs>, 'kind'>,
): WriteTool<TContext, TOps, TArgs> {
  return Object.freeze({ ...tool, kind: 'write' as const });
}

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The tools as the session declares them to the model (JSON Schema from zod).
 * @throws {ConfigError} a bad or repeated name, a missing function, parameters that are not a zod object.
 */
export function toolDeclarations(tools: readonly RealtimeTool<never, never>[]): RealtimeFunctionTool[] {
  const seen = new Set<string>();
  return tools.map((tool, index) => {
    const fail = (what: string) => new ConfigError(`realtimeAgent tools[${index}] (${JSON.stringify(tool?.name)}): ${what}`);
    if (typeof tool?.name !== 'string' || !TOOL_NAME.test(tool.name)) throw fail('name must be 1-64 letters, digits, _ or -');
    if (seen.has(tool.name)) throw fail('the name is declared twice');
    seen.add(tool.name);
    if (tool.kind !== 'read' && tool.kind !== 'write') throw fail('declare it with readTool() or writeTool()');
    if (tool.kind === 'read' ? typeof tool.answer !== 'function' : typeof tool.write !== 'function') throw fail('its function is missing');
    if (!(tool.parameters instanceof z.ZodObject)) throw fail('parameters must be a zod object schema');
    let parameters: unknown;
    try {
      parameters = z.toJSONSchema(tool.parameters, { io: 'input', unrepresentable: 'any' });
    } catch (error) {
      throw fail(`parameters cannot be expressed as JSON Schema: ${(error as Error).message}`);
    }
    const { $schema: _ignored, ...schema } = parameters as Record<string, unknown>;
    return { type: 'function', name: tool.name, description: String(tool.description ?? ''), parameters: schema };
  });
}
