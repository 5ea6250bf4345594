import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const BINARY = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
const CANDIDATES = [BINARY, '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

/** The nats-server binary, or an error saying what to install. */
export function natsServerBinary(): string {
  const found = CANDIDATES.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error('these tests need nats-server: install nats-server (Debian package nats-server), or set NATS_SERVER_BIN');
  return found;
}

/**
 * Ports below Linux's ephemeral range (32768-60999): a port the OS picks
 * for port 0 is also the kind it hands to outgoing connections, so a
 * server restarted on it later (a killed node coming back) could find it
 * taken by some client socket.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 } as const;

/** Ports this process has handed out: a port is checked free and released, so without this two picks could return the same one (a cluster's route port and a node's client port). */
const handedOut = new Set<number>();

/** A free loopback TCP port outside the ephemeral range (listened on and released), never one handed out before in this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (handedOut.has(port)) continue;
    const server = net.createServer();
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (listening) {
      server.close();
      await once(server, 'close');
      handedOut.add(port);
      return port;
    }
    if (attempt >= 100) throw new Error(`no free loopback port in ${PORT_RANGE.from}-${PORT_RANGE.to} after 100 tries`);
  }
}

/** One nats-server process with JetStream, on loopback ports, its store in a temporary directory. */
export class NatsNode {
  readonly name: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  private readonly args: string[];
  private child: ChildProcess | undefined;
  private log = '';

  constructor(options: { name: string; port: number; monitorPort: number; storeDir: string; cluster?: { name: string; port: number; routes: number[] } }) {
    this.name = options.name;
    this.port = options.port;
    this.monitorPort = options.monitorPort;
    this.storeDir = options.storeDir;
    this.args = ['-a', '127.0.0.1', '-p', String(options.port), '-m', String(options.monitorPort), '-js', '-sd', options.storeDir, '-n', options.name];
    if (options.cluster) {
      const routes = options.cluster.routes.map((port) => `nats://127.0.0.1:${port}`).join(',');
      this.args.push('--cluster_name', options.cluster.name, '--cluster', `nats://127.0.0.1:${options.cluster.port}`, '--routes', routes);
    }
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until it takes client connections. */
  async start(): Promise<void> {
    const child = spawn(natsServerBinary(), this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.log.includes('Server is ready')) resolve();
        else if (!this.running) reject(new Error(`nats-server ${this.name} exited:\n${this.log}`));
        else setTimeout(check, 20);
      };
      check();
    });
    await ready;
  }

  /** Kills the process (SIGKILL by default) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  /** The JetStream meta leader's name as this node sees it (from its monitor port). */
  async metaLeader(): Promise<string | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.monitorPort}/jsz`);
      const body = (await response.json()) as { meta_cluster?: { leader?: string } };
      return body.meta_cluster?.leader || undefined;
    } catch {
      return undefined;
    }
  }

  /** As the JetStream meta leader: how many of the other nodes are current in the meta group (from its monitor port); undefined when it is not the leader. */
  async metaFollowersCurrent(): Promise<number | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.monitorPort}/jsz`);
      const body = (await response.json()) as { meta_cluster?: { leader?: string; replicas?: Array<{ current?: boolean }> } };
      if (body.meta_cluster?.leader !== this.name) return undefined;
      return (body.meta_cluster.replicas ?? []).filter((replica) => replica.current).length;
    } catch {
      return undefined;
    }
  }

  output(): string {
    return this.log;
  }
}

/** A temporary store directory, removed by the returned function. */
export function tempStore(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** One standalone JetStream server on free loopback ports. */
export async function startNatsServer(name = 'solo'): Promise<{ node: NatsNode; stop: () => Promise<void> }> {
  const store = tempStore('lcg-nats-');
  const node = new NatsNode({ name, port: await freePort(), monitorPort: await freePort(), storeDir: store.dir });
  await node.start();
  return {
    node,
    stop: async () => {
      await node.kill('SIGTERM');
      store.remove();
    },
  };
}

/** A 3-node JetStream cluster on free loopback ports; resolves once a meta leader is elected. */
export async function startNatsCluster(name = 'lcg'): Promise<{ nodes: NatsNode[]; url: string; stop: () => Promise<void> }> {
  const store = tempStore('lcg-nats-cluster-');
  const routePorts = [await freePort(), await freePort(), await freePort()];
  const nodes: NatsNode[] = [];
  for (let i = 0; i < 3; i++) {
    nodes.push(
      new NatsNode({
        name: `${name}-n${i + 1}`,
        port: await freePort(),
        monitorPort: await freePort(),
        storeDir: path.join(store.dir, `n${i + 1}`),
        cluster: { name, port: routePorts[i]!, routes: routePorts.filter((_, j) => j !== i) },
      }),
    );
  }
  await Promise.all(nodes.map((node) => node.start()));
  // A meta leader is elected by two nodes; placing an R3 stream needs the third current in the meta group too
  // (else: "no suitable peers for placement").
  try {
    await waitFor(
      async () => (await Promise.all(nodes.map((node) => node.metaFollowersCurrent()))).includes(nodes.length - 1),
      30_000,
      'a JetStream meta leader with every other node current',
    );
  } catch (error) {
    // What each node saw, for the next reader of a CI log.
    const seen = await Promise.all(nodes.map(async (node) => `${node.name}: meta leader ${(await node.metaLeader()) ?? 'none'}\n${node.output().split('\n').slice(-8).join('\n')}`));
    await Promise.all(nodes.map((node) => node.kill('SIGTERM')));
    store.remove();
    throw new Error(`${(error as Error).message}\n${seen.join('\n')}`, { cause: error });
  }
  return {
    nodes,
    url: nodes.map((node) => node.url).join(','),
    stop: async () => {
      await Promise.all(nodes.map((node) => node.kill('SIGTERM')));
      store.remove();
    },
  };
}

/** Polls `condition` (every 50 ms) until true, or fails naming what it waited for. */
export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
