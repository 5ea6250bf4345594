import net from 'node:net';
import { once } from 'node:events';

/** A frontend message the server received: 'Q' (simple query) or 'P' (parse), with its SQL. */
export interface WireStatement {
  readonly type: 'Q' | 'P';
  readonly sql: string;
}

export interface PgWireCounter {
  /** `targetUrl` with host and port replaced by the proxy's. */
  readonly url: string;
  /** Statements forwarded to the server so far, in order. */
  statements(): WireStatement[];
  /** Forgets the statements seen so far. */
  reset(): void;
  /** While refusing, a new connection is closed at once (the database looks down); open ones are cut. */
  setRefusing(refusing: boolean): void;
  /** Called with each statement as it is forwarded. */
  onStatement: ((statement: WireStatement) => void) | undefined;
  /** Cuts every open connection (a reset, as if the server went away). */
  cutConnections(): void;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * A TCP proxy on 127.0.0.1 (port 0) in front of a real PostgreSQL that
 * parses the frontend protocol and counts the statements the server gets:
 * 'Q' (simple query: BEGIN, COMMIT, unparameterised SQL) and 'P' (parse:
 * each parameterised statement). Bytes are forwarded untouched.
 */
export async function startPgWireCounter(targetUrl: string): Promise<PgWireCounter> {
  const target = new URL(targetUrl);
  const seen: WireStatement[] = [];
  const sockets = new Set<net.Socket>();
  let refusing = false;

  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    upstream.pipe(client);
    const parser = frontendParser((statement) => {
      seen.push(statement);
      counter.onStatement?.(statement);
    });
    client.on('data', (chunk: Buffer) => {
      parser(chunk);
      upstream.write(chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  const cutConnections = () => {
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
  };
  const counter: PgWireCounter = {
    url: url.toString(),
    statements: () => [...seen],
    reset: () => void seen.splice(0),
    setRefusing: (value) => {
      refusing = value;
      if (value) cutConnections();
    },
    onStatement: undefined,
    cutConnections,
    close: async () => {
      cutConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return counter;
}

/** Feeds chunks of a client's byte stream; calls `emit` for each complete Q or P message. */
function frontendParser(emit: (statement: WireStatement) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  let startup = true;
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (startup) {
        // Untyped: int32 length (including itself), int32 code.
        if (pending.length < 8) return;
        const length = pending.readInt32BE(0);
        if (pending.length < length) return;
        const code = pending.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
        pending = pending.subarray(length);
        continue;
      }
      if (pending.length < 5) return;
      const type = String.fromCharCode(pending[0]!);
      const length = pending.readInt32BE(1);
      if (pending.length < 1 + length) return;
      const body = pending.subarray(5, 1 + length);
      if (type === 'Q') emit({ type, sql: cString(body, 0) });
      if (type === 'P') emit({ type, sql: cString(body, body.indexOf(0) + 1) });
      pending = pending.subarray(1 + length);
    }
  };
}

function cString(buffer: Buffer, start: number): string {
  const end = buffer.indexOf(0, start);
  return buffer.toString('utf8', start, end === -1 ? buffer.length : end);
}
