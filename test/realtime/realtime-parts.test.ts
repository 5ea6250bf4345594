import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, defineWrite } from '../../src/index.js';
import { readTool, realtimeAgent, writeTool } from '../../src/realtime/index.js';
import { Playback } from '../../src/realtime/playback.js';
import { parseServerEvent } from '../../src/realtime/server-events.js';
import { answerToolCall } from '../../src/realtime/tool-answer.js';
import type { AgentCall } from '../../src/twilio/agent.js';

const ops = {
  note: defineWrite({ schema: z.strictObject({ text: z.string().min(1) }), table: 'notes', kind: 'insert', tenantColumn: 't', idempotencyColumn: 'k', row: (input) => input }),
};

function fakeCall(journaled = true): { call: AgentCall<{ name: string }, typeof ops, number>; enqueued: unknown[] } {
  const enqueued: unknown[] = [];
  const writes = {
    enqueue: (operation: string, input: unknown) => {
      const parsed = ops.note.schema.safeParse(input);
      if (operation !== 'note' || !parsed.success) throw new Error(`invalid write ${operation}`);
      enqueued.push([operation, input]);
      return { journaled };
    },
  };
  return { call: { context: { name: 'Jane' }, writes } as unknown as AgentCall<{ name: string }, typeof ops, number>, enqueued };
}

const tools = new Map(
  [
    readTool({ name: 'whoami', description: 'the name', parameters: z.object({}), answer: (_args, { context }: { context: { name: string } | null }) => ({ name: context?.name ?? null }) }),
    writeTool<{ name: string }, typeof ops, z.ZodObject<{ text: z.ZodString }>>({
      name: 'take_note',
      description: 'notes',
      parameters: z.object({ text: z.string() }),
      write: ({ text }) => (text === 'no' ? { refuse: 'not that' } : { operation: 'note', input: { text } }),
    }),
  ].map((tool) => [tool.name, tool as never]),
);

describe('answerToolCall: no I/O, never throws', () => {
  const scope = (journaled = true) => {
    const { call, enqueued } = fakeCall(journaled);
    return { scope: { context: call.context, call: call as never }, enqueued };
  };

  it('a read tool answers from the context', () => {
    expect(answerToolCall(tools, 'whoami', '', scope().scope, 1000)).toEqual({ output: '{"name":"Jane"}', ok: true, kind: 'read' });
  });

  it('a write tool enqueues one declared write and says whether it is durable', () => {
    const { scope: durable, enqueued } = scope(true);
    expect(answerToolCall(tools, 'take_note', '{"text":"hi"}', durable, 1000)).toMatchObject({ ok: true, durable: true, output: '{"ok":true,"durable":true}' });
    expect(enqueued).toEqual([['note', { text: 'hi' }]]);
    expect(answerToolCall(tools, 'take_note', '{"text":"hi"}', scope(false).scope, 1000)).toMatchObject({ ok: true, durable: false });
  });

  it.each([
    ['an unknown tool', 'nope', '{}', 'no tool named "nope"; the tools are whoami, take_note'],
    ['arguments that are not JSON', 'take_note', '{', 'not JSON'],
    ['invalid arguments', 'take_note', '{"text":3}', 'invalid arguments for take_note: text'],
    ['a refusal', 'take_note', '{"text":"no"}', 'not that'],
    ['a write the operation rejects', 'take_note', '{"text":""}', 'take_note failed: invalid write note'],
  ])('%s: an error output', (_case, name, args, error) => {
    const answer = answerToolCall(tools, name, args, scope().scope, 1000);
    expect(answer.ok).toBe(false);
    expect(JSON.parse(answer.output)).toEqual({ ok: false, error: expect.stringContaining(error) });
  });

  it('an answer past maxChars is replaced by an error', () => {
    expect(JSON.parse(answerToolCall(tools, 'whoami', '{}', scope().scope, 5).output).error).toContain('too long');
  });
});

describe('realtimeAgent options', () => {
  const base = { apiKey: 'sk-test-key', instructions: () => 'x' };
  it.each([
    [{ ...base, apiKey: '' }, 'apiKey is required'],
    [{ ...base, url: 'https://api.openai.com/v1/realtime' }, 'url must be a ws:// or wss:// URL'],
    [{ ...base, connectTimeoutMs: 0 }, 'connectTimeoutMs must be a positive integer'],
    [{ ...base, tools: [readTool({ name: 'bad name', description: '', parameters: z.object({}), answer: () => null })] }, 'name must be'],
    [{ ...base, tools: [readTool({ name: 'a', description: '', parameters: z.string() as never, answer: () => null })] }, 'parameters must be a zod object'],
  ])('refuses a bad option at construction, naming it (%#)', (options, message) => {
    expect(() => realtimeAgent(options as never)).toThrow(ConfigError);
    expect(() => realtimeAgent(options as never)).toThrow(message);
  });
});

describe('Playback: what the caller heard, from marks', () => {
  it('the last mark back is the position heard; a cut forgets pending marks and marks the item cut', () => {
    const playback = new Playback('p-', 100);
    const marks = [playback.sent('item', 800), playback.sent('item', 800), playback.sent('item', 800)];
    expect(playback.unplayed).toBe(300);
    expect(playback.played(marks[0]!)).toBe(true);
    expect(playback.played('someone-else')).toBe(false);
    expect(playback.unplayed).toBe(200);
    expect(playback.interrupt()).toEqual({ itemId: 'item', playedMs: 100, sentMs: 300 });
    expect(playback.isCut('item')).toBe(true);
    expect(playback.played(marks[1]!)).toBe(false); // returned by clear: not "played"
    expect(playback.interrupt()).toBeNull();
  });

  it('bounded: past maxPendingMarks the oldest are forgotten', () => {
    const playback = new Playback('p-', 2);
    const first = playback.sent('item', 160);
    playback.sent('item', 160);
    playback.sent('item', 160);
    expect(playback.played(first)).toBe(false);
    expect(playback.unplayed).toBe(40);
  });
});

describe('parseServerEvent', () => {
  it.each([
    ['x', 'malformed'],
    ['{"type":1}', 'malformed'],
    ['{"type":"response.output_audio.delta","delta":"AA=="}', 'malformed'],
    ['{"type":"session.updated"}', 'ignored'],
    ['{"type":"brand.new"}', 'ignored'],
    ['{"type":"response.output_audio.delta","delta":"AA==","item_id":"i","response_id":"r"}', 'handled'],
  ])('%s → %s', (data, kind) => {
    expect(parseServerEvent(data).kind).toBe(kind);
  });
});
