import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

/**
 * The floor of the machine: a bare `ws` server that only does what any media
 * server must — parse each frame's JSON and decode its base64 audio — and
 * answers the webhook with a fixed Stream. Measured the same way as ours.
 */
export async function startBareServer(onFrameHandled: (ns: number) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    const host = req.headers.host ?? '127.0.0.1';
    res.setHeader('content-type', 'text/xml');
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="ws://${host}/media"><Parameter name="business_id" value="1"/></Stream></Connect></Response>`);
  });
  const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 });
  let sink = 0;
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const start = process.hrtime.bigint();
      const message = JSON.parse(String(data)) as { event: string; media?: { payload: string } };
      if (message.event === 'media' && message.media) sink += Buffer.from(message.media.payload, 'base64').length;
      else if (message.event === 'stop') ws.close(1000);
      onFrameHandled(Number(process.hrtime.bigint() - start));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        void sink;
      }),
  };
}
