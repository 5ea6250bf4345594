// The floor of the machine, as a process of its own: a bare `ws` server that
// does only what any media server must — JSON.parse each frame, decode its
// base64 audio — plus what the capacity client needs to measure it: the
// /twiml answer in our TwiML's shape, a `greeting` mark after `start`, a
// `noted` mark on each DTMF, close 1000 on `stop`.
//
// The same ws as our server: express-ws brings ws 7 (our server's sockets
// are ws 7 WebSockets), so this requires `ws` from express-ws's folder. The
// HTTP stack is node:http without express: the floor pays for no routing;
// express only runs for /twiml and the upgrade, outside the steady window
// (its request objects still leave more hidden classes in Node's stream
// code, which every frame runs: the `shapes` variant below prices that).
//
// FLOOR_VARIANT (floor-variants.ts) adds one piece of what our server is to
// the floor, to price it alone (bench:capacity --side-by-side N --floor-variants):
//   recogniser — media frames recognised on their text as our server does
//     (twilio-messages.ts: mediaFrameTail, isMediaFrame) instead of parsed
//     and decoded; everything else is parsed as before;
//   als — an AsyncLocalStorage in use, as OpenTelemetry's context manager
//     puts one in any traced app (on Node 20: async_hooks' init hook and
//     the callback trampoline on every socket read);
//   shapes — four more kinds of socket through Node's stream code, as an
//     app's database and HTTP clients bring (each its own hidden class:
//     V8's inline caches in net and streams turn megamorphic past four).
//
// Prints `bare-floor listening on http://127.0.0.1:<port>`; SIGTERM stops it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';
import { isMediaFrame, mediaFrameTail, type MediaFrameTail } from '../../src/twilio/twilio-messages.js';
import { FLOOR_VARIANTS } from './floor-variants.js';

const require = createRequire(import.meta.url);
/** ws 7 exports the server as `WebSocket.Server` (ws 8's types describe the same API). */
const ws7 = createRequire(require.resolve('express-ws'))('ws') as { Server: typeof WebSocketServer };
const WS_VERSION = (createRequire(require.resolve('express-ws'))('ws/package.json') as { version: string }).version;

const variant = process.env.FLOOR_VARIANT;
if (variant !== undefined && !(FLOOR_VARIANTS as readonly string[]).includes(variant)) {
  process.stderr.write(`bare-floor: FLOOR_VARIANT must be one of ${FLOOR_VARIANTS.join(', ')} (received ${JSON.stringify(variant)})\n`);
  process.exit(2);
}
if (variant === 'als') new AsyncLocalStorage<object>().enterWith({});

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const host = req.headers.host ?? '127.0.0.1';
    res.setHeader('content-type', 'text/xml');
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="ws://${host}/media">` +
        '<Parameter name="business_id" value="1"/><Parameter name="direction" value="inbound"/></Stream></Connect></Response>',
    );
  });
});
const wss = new ws7.Server({ server, path: '/media', maxPayload: 64 * 1024 });
let decodedBytes = 0;
wss.on('connection', (ws: WebSocket) => {
  let tail: MediaFrameTail | null = null;
  ws.on('message', (data: string | Buffer) => {
    if (tail !== null && isMediaFrame(data as string, tail)) return;
    const message = JSON.parse(String(data)) as {
      event: string;
      streamSid?: string;
      start?: { streamSid: string };
      media?: { payload: string };
    };
    switch (message.event) {
      case 'media':
        decodedBytes += Buffer.from(message.media!.payload, 'base64').length;
        return;
      case 'start':
        if (variant === 'recogniser') tail = mediaFrameTail(message.start!.streamSid);
        ws.send(JSON.stringify({ event: 'mark', streamSid: message.start!.streamSid, mark: { name: 'greeting' } }));
        return;
      case 'dtmf':
        ws.send(JSON.stringify({ event: 'mark', streamSid: message.streamSid, mark: { name: 'noted' } }));
        return;
      case 'stop':
        ws.close(1000, 'call ended');
        return;
      default:
        return;
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  if (variant === 'shapes') exerciseSocketShapes(port);
  process.stdout.write(`bare-floor listening on http://127.0.0.1:${port} (ws ${WS_VERSION})\n`);
});

const shapeSockets: net.Socket[] = [];
/**
 * Four client sockets, each given a property of its own (a hidden class of
 * its own), each asking for /twiml once a second on a kept-alive connection
 * and reading the answer, as an app's database and HTTP clients keep doing
 * (once is not enough: V8 records the shapes a function sees only once it
 * has run a while).
 */
function exerciseSocketShapes(port: number): void {
  const request = 'GET /twiml HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n';
  for (let i = 0; i < 4; i += 1) {
    const socket = net.connect(port, '127.0.0.1') as net.Socket & Record<string, unknown>;
    socket[`shape${i}`] = i;
    socket.on('data', () => {});
    socket.on('error', (error) => process.stderr.write(`bare-floor: shape socket ${i}: ${error.message}\n`));
    setInterval(() => socket.write(request), 1000).unref();
    shapeSockets.push(socket);
  }
}

process.once('SIGTERM', () => {
  for (const socket of shapeSockets) socket.destroy();
  for (const client of wss.clients) client.terminate();
  wss.close();
  server.close(() => process.exit(decodedBytes >= 0 ? 0 : 1));
});
