import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkTraces } from '../../src/check/check-traces.js';
import { checkVerdict } from '../../src/check/format.js';
import { checkCommand } from '../../src/cli/check-command.js';
import { ROOT } from '../helpers/processes.js';

const foreign = (name: string): string => path.join(ROOT, 'test/fixtures/foreign', name);

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: new PassThrough().on('data', (c: Buffer) => (stdout += c.toString())),
    stderr: new PassThrough().on('data', (c: Buffer) => (stderr += c.toString())),
  };
  const code = await checkCommand(args, io, new PassThrough());
  return { code, stdout, stderr };
}

const summary = (violations: Awaited<ReturnType<typeof checkTraces>>['violations']): string[] =>
  violations.map((v) => `${v.kind} ${v.query} @${v.callSid}`).sort();

describe('check --window-span on another stack\'s traces', () => {
  it('a Pipecat-shaped trace has no live window of ours: incomplete (exit 2), not a pass', async () => {
    const result = await checkTraces([foreign('pipecat-turns.json')]);
    expect(result.calls).toBe(0);
    expect(checkVerdict(result).code).toBe(2);
  });

  it('--window-span turn: the tool handler\'s Redis GET and CRM call and the model request are violations; the lookup before the first turn is not', async () => {
    const result = await checkTraces([foreign('pipecat-turns.json')], { windowSpans: ['turn'] });
    expect(result.calls).toBe(1);
    expect(summary(result.violations)).toEqual([
      'http GET https://crm.example.com/api/slots?day=2026-12-02 @conv-7f3a',
      'http POST https://api.openai.com/v1/chat/completions @conv-7f3a',
      'redis GET session:conv-7f3a @conv-7f3a',
    ]);
    expect(checkVerdict(result).code).toBe(1);
  });

  it('--allow-host mirrors the runtime allowlist: the model endpoint is allowed, the CRM and Redis are not', async () => {
    const result = await checkTraces([foreign('pipecat-turns.json')], { windowSpans: ['turn'], allowHosts: ['api.openai.com'] });
    expect(summary(result.violations)).toEqual([
      'http GET https://crm.example.com/api/slots?day=2026-12-02 @conv-7f3a',
      'redis GET session:conv-7f3a @conv-7f3a',
    ]);
  });

  it('--window-span conversation judges the whole conversation: the lookup before the first turn counts too', async () => {
    const result = await checkTraces([foreign('pipecat-turns.json')], { windowSpans: ['conversation'], allowHosts: ['*.openai.com'] });
    expect(summary(result.violations)).toContain('db SELECT * FROM customers WHERE phone = $1 @conv-7f3a');
    expect(result.violations).toHaveLength(3);
  });

  it('a LiveKit-shaped agent_session (CLI, older HTTP attributes): the tool\'s POST is a violation; the server span never is', async () => {
    const { code, stdout } = await run([foreign('livekit-session.json'), '--window-span', 'agent_session', '--allow-host', 'api.openai.com']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^live-call-guard check: FAIL — 1 outbound I\/O request \(http 1\) during live calls \(1 live call judged;/);
    expect(stdout).toContain('call call-room-42');
    expect(stdout).toContain('request: POST https://booking.example.com/v2/appointments');
    expect(stdout).not.toContain('/webhook');
  });

  it('--window-attribute KEY=VALUE marks windows by attribute', async () => {
    const result = await checkTraces([foreign('livekit-session.json')], {
      windowAttributes: [{ key: 'lk.function_tool.name', value: 'book_appointment' }],
    });
    expect(summary(result.violations)).toEqual(['http POST https://booking.example.com/v2/appointments @undefined']);
  });

  it('rejects an empty --window-span and a bad --allow-host with exit 2', async () => {
    expect((await run([foreign('livekit-session.json'), '--window-span', ''])).code).toBe(2);
    const bad = await run([foreign('livekit-session.json'), '--allow-host', 'http://x y']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--allow-host');
  });
});
