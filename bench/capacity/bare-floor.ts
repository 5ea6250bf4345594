// The floor of the machine, as a process of its own: a bare `ws` server that
// does only what any media server must — JSON.parse each frame, decode its
// base64 audio — plus what the capacity client needs to measure it: the
// /twiml answer in our TwiML's shape, a `greeting` mark after `start`, a
// `noted` mark on each DTMF, close 1000 on `stop`.
//
// The same ws as our server: express-ws brings ws 7 (our server's sockets
// are ws 7 WebSockets), so this requires `ws` from express-ws's folder. The
// HTTP stack is node:http without express: the floor pays for no routing;
// express only runs for /twiml and the upgrade, outside the steady window.
//
// Prints `bare-floor listening on http://127.0.0.1:<port>`; SIGTERM stops it.
import { createRequire } from 'node:module';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';

const require = createRequire(import.meta.url);
/** ws 7 exports the server as `WebSocket.Server` (ws 8's types describe the same API). */
const ws7 = createRequire(require.resolve('express-ws'))('ws') as { Server: typeof WebSocketServer };
const WS_VERSION = (createRequire(require.resolve('express-ws'))('ws/package.json') as { version: string }).version;

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
  ws.on('message', (data: string | Buffer) => {
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
  process.stdout.write(`bare-floor listening on http://127.0.0.1:${port} (ws ${WS_VERSION})\n`);
});
process.once('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  wss.close();
  server.close(() => process.exit(decodedBytes >= 0 ? 0 : 1));
});
