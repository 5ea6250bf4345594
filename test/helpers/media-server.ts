import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { serve, type RunningServer, type ServeOptions } from '../../reference/serve.js';
import { loadConfig } from '../../reference/config.js';
import { parseStreamTwiml, type StreamInstruction } from '../../src/testing/twiml.js';
import { TwilioStreamClient, type StreamClientOptions } from '../../src/testing/twilio-stream-client.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestMediaServer {
  server: RunningServer;
  db: TestDatabase;
  journalDir: string;
  /** Resolves when the call has ended on the server: socket closed, writes landed (or journaled), root span ended. */
  callEnded(callSid: string): Promise<void>;
  /** The same, for one stream of a call (a call may have several). */
  streamEnded(streamSid: string): Promise<void>;
  stop(): Promise<void>;
}

/** Ended calls (or streams), from the hub's `callEnded` events since the server started (no race with a fast call). */
function trackEnded(server: RunningServer, key: 'callSid' | 'streamSid'): (id: string) => Promise<void> {
  const ended = new Set<string>();
  const waiting = new Map<string, Array<() => void>>();
  server.media.on('callEnded', (event) => {
    const id = event[key];
    if (!id) return;
    ended.add(id);
    for (const resolve of waiting.get(id) ?? []) resolve();
    waiting.delete(id);
  });
  return (id) =>
    ended.has(id) ? Promise.resolve() : new Promise((resolve) => waiting.set(id, [...(waiting.get(id) ?? []), resolve]));
}

/** The real server (`serve`) on port 0, on a database of its own, with the env given. */
export async function startMediaServer(
  env: NodeJS.ProcessEnv = {},
  agent?: ServeOptions['agent'],
  limits?: ServeOptions['limits'],
): Promise<TestMediaServer> {
  const db = await createTestDatabase();
  const journalDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-journal-'));
  const config = loadConfig({ PORT: '0', DATABASE_URL: db.url, JOURNAL_DIR: journalDir, DRAIN_TIMEOUT_S: '5', ...env });
  const server = await serve(config, pino({ level: 'silent' }), { ...(agent ? { agent } : {}), ...(limits ? { limits } : {}) });
  return {
    server,
    db,
    journalDir,
    callEnded: trackEnded(server, 'callSid'),
    streamEnded: trackEnded(server, 'streamSid'),
    stop: async () => {
      await server.close();
      await db.drop();
      await fs.rm(journalDir, { recursive: true, force: true });
    },
  };
}

let callCounter = 0;
/** A call sid like Twilio's: CA + 32 hex digits. */
export function newCallSid(): string {
  callCounter += 1;
  return `CA${process.pid.toString(16).padStart(8, '0')}${callCounter.toString(16).padStart(24, '0')}`;
}

/** POSTs the voice webhook as Twilio does and reads the Stream from the TwiML. */
export async function postTwiml(
  baseUrl: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; stream: StreamInstruction | undefined }> {
  const response = await fetch(`${baseUrl}/twiml`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const body = await response.text();
  return { status: response.status, body, stream: parseStreamTwiml(body) };
}

/** Places a call up to the live phase: webhook, upgrade, connected, start, greeting mark. */
export async function placeCall(
  baseUrl: string,
  form: Record<string, string>,
  options: StreamClientOptions = {},
): Promise<{ client: TwilioStreamClient; callSid: string; stream: StreamInstruction }> {
  const { stream } = await postTwiml(baseUrl, form);
  if (!stream) throw new Error(`the webhook answered no Stream: ${(await postTwiml(baseUrl, form)).body}`);
  const client = await TwilioStreamClient.connect(stream.url, options);
  client.connected();
  client.start({ callSid: form.CallSid!, streamSid: `MZ${form.CallSid!.slice(2)}`, customParameters: stream.parameters });
  return { client, callSid: form.CallSid!, stream };
}

/** 20 ms of µ-law silence. */
export const SILENCE = Buffer.alloc(160, 0xff);
