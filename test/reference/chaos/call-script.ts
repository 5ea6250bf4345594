import type { OutboundMessage } from '../../../src/twilio/twilio-messages.js';
import { parseStreamTwiml, type StreamInstruction } from '../../../src/testing/twiml.js';
import { TwilioStreamClient } from '../../../src/testing/twilio-stream-client.js';
import { DEMO_NUMBERS } from '../../../reference/db/seed.js';

/** The receptionist's digits that write: 1 books, 2 asks for a callback, 3 gives the caller's name. */
export type WriteDigit = '1' | '2' | '3';

/** A write the caller was told about (a mark came back), and how durable the server said it was. */
export type Ack = 'durable' | 'volatile';

export interface CallPlan {
  readonly callSid: string;
  readonly from: string;
  /** The lead the harness made for this caller (then `3` sets leads.customer_name), or null (call_sessions.state.callerName). */
  readonly leadId: number | null;
  readonly digits: readonly WriteDigit[];
  /** How the call ends: Twilio's `stop`, or the socket closed. */
  readonly end: 'stop' | 'hangup';
  /** Resolves when the call may send its digits (a neighbour waits for the fuzz beside it). */
  readonly gate?: Promise<void>;
}

export interface CallRecord {
  readonly plan: CallPlan;
  placed: boolean;
  /** Digits sent (writes asked for) per kind. */
  readonly sent: { bookings: number; callbacks: number; names: number };
  /** Writes acknowledged by their mark. */
  greeting: Ack | undefined;
  readonly bookings: { durable: number; volatile: number };
  callback: Ack | undefined;
  name: Ack | undefined;
  /** Digits whose mark came (a write, or 'sorry'). */
  answered: number;
  /** Digits whose mark never came while the socket stayed open: the caller heard nothing. */
  unanswered: number;
  closed: { code: number; reason: string } | undefined;
  /** The socket did not close within the deadline after the call ended. */
  hung: boolean;
  /** Why the call could not be placed or went wrong on our side. */
  error: string | undefined;
  /** The webhook turned the call away cleanly (busy while the journal is full, sorry while the database is down). */
  refused: 'busy' | 'sorry' | undefined;
}

export interface CallScriptOptions {
  /** How long a digit waits for its mark before it counts as unanswered. */
  ackTimeoutMs: number;
  /** How long the socket may take to close after `stop` (the flush runs first). */
  closeTimeoutMs: number;
  /** Called synchronously at each step, so a fault can strike right there. */
  onEvent: (event: 'greeting' | 'ack' | 'ended', record: CallRecord) => void;
}

const SILENCE = Buffer.alloc(160, 0xff);

/** POSTs the voice webhook as Twilio does and reads the Stream from its TwiML. */
/** The webhook's answer: a Stream, or a clean refusal (busy: the server cannot take calls now; sorry: it could not look the call up). */
export type WebhookAnswer = { readonly stream: StreamInstruction } | { readonly refused: 'busy' | 'sorry' };

export async function postTwiml(baseUrl: string, form: Record<string, string>): Promise<WebhookAnswer> {
  const response = await fetch(`${baseUrl}/twiml`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const twiml = await response.text();
  const stream = parseStreamTwiml(twiml);
  if (stream) return { stream };
  if (response.status === 200 && twiml.includes('<Reject reason="busy"/>')) return { refused: 'busy' };
  if (response.status === 200 && twiml.includes('<Hangup/>')) return { refused: 'sorry' };
  throw new Error(`the webhook answered ${response.status} without a Stream`);
}

type Next = { kind: 'mark'; message: OutboundMessage & { event: 'mark' } } | { kind: 'closed' } | { kind: 'timeout' };

/**
 * One well-behaved call to the demo receptionist: webhook, stream, greeting,
 * its digits one at a time (each waits for its mark, the acknowledgement),
 * then stop. It never throws: what happened is in the record.
 */
export async function runCall(baseUrl: string, plan: CallPlan, options: CallScriptOptions): Promise<CallRecord> {
  const record: CallRecord = {
    plan,
    placed: false,
    sent: { bookings: 0, callbacks: 0, names: 0 },
    greeting: undefined,
    bookings: { durable: 0, volatile: 0 },
    callback: undefined,
    name: undefined,
    answered: 0,
    unanswered: 0,
    closed: undefined,
    hung: false,
    error: undefined,
    refused: undefined,
  };
  let client: TwilioStreamClient;
  let stream: StreamInstruction | undefined;
  try {
    const answer = await postTwiml(baseUrl, { CallSid: plan.callSid, To: DEMO_NUMBERS.dental, From: plan.from });
    if ('refused' in answer) {
      record.refused = answer.refused;
      return record;
    }
    stream = answer.stream;
    client = await TwilioStreamClient.connect(stream.url);
  } catch (error) {
    // 503 on the upgrade: the server turned the call away cleanly (the journal, or its call limit, just changed).
    if ((error as { status?: number }).status === 503) {
      record.refused = 'busy';
      return record;
    }
    record.error = `not placed: ${(error as Error).message}`;
    return record;
  }
  record.placed = true;
  void client.closed.then((closed) => (record.closed = closed));
  client.connected();
  client.start({ callSid: plan.callSid, streamSid: `MZ${plan.callSid.slice(2)}`, customParameters: stream.parameters });

  const seen = new Set<OutboundMessage>();
  const nextMark = async (): Promise<Next> => {
    const mark = client.waitFor((m) => m.event === 'mark' && !seen.has(m));
    mark.catch(() => undefined); // a close while waiting is the `closed` outcome below
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        mark.then((message): Next => {
          seen.add(message);
          return { kind: 'mark', message: message as OutboundMessage & { event: 'mark' } };
        }),
        client.closed.then((): Next => ({ kind: 'closed' })),
        new Promise<Next>((resolve) => (timer = setTimeout(() => resolve({ kind: 'timeout' }), options.ackTimeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  const pending: WriteDigit[] = [];
  const acknowledge = (name: string): void => {
    const ack: Ack = name.endsWith('-volatile') ? 'volatile' : 'durable';
    const base = name.replace(/-volatile$/, '');
    if (base === 'greeting') {
      record.greeting = ack;
      options.onEvent('greeting', record);
      return;
    }
    const digit = pending.shift();
    if (digit) record.answered += 1;
    if (base === 'booked' && digit === '1') record.bookings[ack] += 1;
    else if (base === 'noted' && digit === '2') record.callback = ack;
    else if (base === 'noted' && digit === '3') record.name = ack;
    // 'sorry' (no free slot): the digit wrote nothing.
    options.onEvent('ack', record);
  };

  const greeting = await nextMark();
  let answering = greeting.kind === 'mark';
  if (greeting.kind === 'mark') acknowledge(greeting.message.mark.name);
  if (greeting.kind === 'timeout') record.unanswered += 1;
  if (answering && plan.gate) await plan.gate;

  for (const digit of plan.digits) {
    if (!answering || record.closed) break;
    client.media(SILENCE);
    pending.push(digit);
    if (digit === '1') record.sent.bookings += 1;
    if (digit === '2') record.sent.callbacks += 1;
    if (digit === '3') record.sent.names += 1;
    client.dtmf(digit);
    const next = await nextMark();
    if (next.kind === 'mark') acknowledge(next.message.mark.name);
    else {
      if (next.kind === 'timeout') record.unanswered += 1;
      answering = false;
    }
  }

  if (!record.closed) {
    if (plan.end === 'stop') client.stop(plan.callSid);
    else client.close();
  }
  options.onEvent('ended', record);
  let timer: NodeJS.Timeout | undefined;
  const closedInTime = await Promise.race([
    client.closed.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.closeTimeoutMs))),
  ]);
  clearTimeout(timer);
  if (!closedInTime) {
    record.hung = true;
    client.socket.terminate();
    await client.closed;
  }
  // A mark that came late still acknowledges the digit that waited for it.
  for (const message of client.received) {
    if (message.event === 'mark' && !seen.has(message)) {
      seen.add(message);
      if (pending.length > 0 || message.mark.name.startsWith('greeting')) {
        if (record.unanswered > 0) record.unanswered -= 1;
        acknowledge(message.mark.name);
      }
    }
  }
  return record;
}
