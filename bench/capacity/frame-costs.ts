// What one inbound media frame costs our server, piece by piece (ns, the
// best of 5 rounds): the candidates of issue #14's hot-path work, measured
// one by one.   node --import tsx bench/capacity/frame-costs.ts
import { context, ROOT_CONTEXT, createContextKey } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { inboundMessage, isMediaFrame, isPlainMediaMessage, mediaFrameTail, mediaMessage } from '../../src/twilio/twilio-messages.js';
import { VoiceActivityDetector } from '../../reference/voice-activity.js';
import { nsPerCall } from '../measure.js';
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const payload = Buffer.from(Array.from({ length: 160 }, (_, i) => (i % 2 === 0 ? 0xfe : 0x7e))).toString('base64');
const text = `{"event":"media","sequenceNumber":"123","media":{"track":"inbound","chunk":"122","timestamp":"2440","payload":"${payload}"},"streamSid":"MZ0123456789abcdef0123456789abcdef"}`;
const buf = Buffer.from(text);
const obj = JSON.parse(text);
const vad = new VoiceActivityDetector();
const frame = Buffer.from(payload, 'base64');
const key = createContextKey('k');
const ctx = ROOT_CONTEXT.setValue(key, 1);
let sink = 0;
const N = 200_000;
const r = (name: string, fn: (i: number) => void) => console.log(name.padEnd(44), nsPerCall(fn, N).toFixed(0), 'ns');
r('Buffer→string (data.toString utf8)', () => { sink += buf.toString('utf8').length; });
r('JSON.parse media frame', () => { sink += JSON.parse(text).event.length; });
r('zod discriminatedUnion.safeParse (media)', () => { sink += inboundMessage.safeParse(obj).success ? 1 : 0; });
r('zod mediaMessage.safeParse', () => { sink += mediaMessage.safeParse(obj).success ? 1 : 0; });
r('base64 regex on the 216-char payload', () => { sink += /^[A-Za-z0-9+/]*={0,2}$/.test(obj.media.payload) ? 1 : 0; });
r('media fast path (isPlainMediaMessage)', () => { sink += isPlainMediaMessage(obj) ? 1 : 0; });
r('JSON.parse + isPlainMediaMessage (before)', () => { sink += isPlainMediaMessage(JSON.parse(text)) ? 1 : 0; });
const tail = mediaFrameTail(obj.streamSid)!;
r('isMediaFrame (the live path now)', () => { sink += isMediaFrame(text, tail) ? 1 : 0; });
r('base64 decode 160 B', () => { sink += Buffer.from(payload, 'base64').length; });
const reused = Buffer.alloc(160);
r('base64 decode into a reused buffer', () => { sink += reused.write(payload, 'base64'); });
r('VAD push', () => { sink += vad.push(frame) ? 1 : 0; });
r('context.with (ALS run)', () => { sink += context.with(ctx, () => 1); });
r('Date.now + hrtime.bigint x2', () => { sink += Date.now(); sink += Number(process.hrtime.bigint() - process.hrtime.bigint()); });
if (sink === 0) console.log('(nothing measured)');
