import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgres } from '../../../reference/db/embedded-postgres.js';
import { EmbeddedPostgresError } from '../../../reference/db/errors.js';
import { isAlive, postmasterPid, spawnNode } from '../../helpers/processes.js';

async function query(url: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('EmbeddedPostgres', () => {
  let root: string;
  let dataDir: string;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-embedded-'));
    await fs.chmod(root, 0o755);
    dataDir = path.join(root, 'pg');
  });

  afterAll(async () => {
    // A server a failed test left behind: immediate shutdown.
    const pid = await postmasterPid(dataDir);
    if (pid && isAlive(pid)) process.kill(pid, 'SIGQUIT');
    await fs.rm(root, { recursive: true, force: true });
  });

  it('initialises a UTF8 cluster, starts, answers with a password, and stops', async () => {
    const server = new EmbeddedPostgres({ dataDir });
    const url = await server.start();
    expect(new URL(url).hostname).toBe('127.0.0.1');
    const [row] = await query(url, `select current_setting('server_encoding') as encoding, version() as version`);
    expect(row!.encoding).toBe('UTF8');
    expect(String(row!.version)).toMatch(/^PostgreSQL \d+/);

    const wrongPassword = new URL(url);
    wrongPassword.password = 'wrong';
    await expect(query(wrongPassword.toString(), 'select 1')).rejects.toThrow(/password authentication failed/);

    const pid = await postmasterPid(dataDir);
    expect(pid && isAlive(pid)).toBe(true);
    await server.stop();
    expect(await postmasterPid(dataDir)).toBeUndefined();
    expect(isAlive(pid!)).toBe(false);
    await expect(query(url, 'select 1')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('restarts on the same data, keeping it', async () => {
    const first = new EmbeddedPostgres({ dataDir });
    await query(await first.start(), 'create table kept (v int); insert into kept values (42)');
    await first.stop();
    const second = new EmbeddedPostgres({ dataDir });
    const rows = await query(await second.start(), 'select v from kept');
    expect(rows).toEqual([{ v: 42 }]);
    await second.stop();
  });

  it('recovers when its previous owner was killed with SIGKILL (orphaned server)', async () => {
    const owner = spawnNode(['--import', 'tsx', 'test/fixtures/start-embedded.ts', dataDir]);
    const [orphanUrl] = await owner.waitForLine(/^postgres:\/\/\S+$/);
    owner.child.kill('SIGKILL');
    await owner.exited;
    const orphanPid = await postmasterPid(dataDir);
    expect(orphanPid && isAlive(orphanPid)).toBe(true);
    expect(await query(orphanUrl!, 'select 1 as one')).toEqual([{ one: 1 }]);

    const server = new EmbeddedPostgres({ dataDir });
    const url = await server.start();
    expect(await query(url, 'select v from kept')).toEqual([{ v: 42 }]);
    expect(isAlive(orphanPid!)).toBe(false);
    await server.stop();
  });

  it('removes a stale postmaster.pid whose process is gone', async () => {
    await fs.writeFile(path.join(dataDir, 'postmaster.pid'), `999999\n${dataDir}\n`);
    const server = new EmbeddedPostgres({ dataDir });
    expect(await query(await server.start(), 'select 1 as one')).toEqual([{ one: 1 }]);
    await server.stop();
  });

  it('leaves alone a server whose owner is alive, and says which process owns it', async () => {
    const owner = spawnNode(['--import', 'tsx', 'test/fixtures/start-embedded.ts', dataDir]);
    try {
      await owner.waitForLine(/^postgres:\/\/\S+$/);
      const error = await new EmbeddedPostgres({ dataDir }).start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmbeddedPostgresError);
      expect((error as Error).message).toContain(`in use by process ${owner.child.pid}`);
    } finally {
      owner.child.kill('SIGKILL');
      await owner.exited;
    }
  });

  it('fails with the server log lines when PostgreSQL cannot start', async () => {
    const conf = path.join(dataDir, 'postgresql.auto.conf');
    const original = await fs.readFile(conf, 'utf8');
    await fs.appendFile(conf, 'shared_buffers = nonsense\n');
    try {
      const error = await new EmbeddedPostgres({ dataDir }).start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmbeddedPostgresError);
      expect((error as EmbeddedPostgresError).code).toBe('ERR_EMBEDDED_POSTGRES');
      expect((error as Error).message).toContain('could not start PostgreSQL');
      expect((error as Error).message).toContain('shared_buffers');
    } finally {
      await fs.writeFile(conf, original);
    }
  });

  it('runs from a private folder (mode 700) too: as root, the cluster moves where the server user can reach it', async () => {
    const privateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-private-'));
    await fs.chmod(privateDir, 0o700);
    const server = new EmbeddedPostgres({ dataDir: path.join(privateDir, 'pg') });
    try {
      expect(await query(await server.start(), 'select 1 as one')).toEqual([{ one: 1 }]);
      if (process.getuid?.() === 0) {
        expect(server.dataDirectory.startsWith(path.join(os.tmpdir(), 'live-call-guard-data'))).toBe(true);
      } else {
        expect(server.dataDirectory).toBe(path.join(privateDir, 'pg'));
      }
    } finally {
      await server.stop();
      if (server.dataDirectory !== path.join(privateDir, 'pg')) await fs.rm(server.dataDirectory, { recursive: true, force: true });
      await fs.rm(privateDir, { recursive: true, force: true });
    }
  });

  it('rejects an invalid port at construction, naming it', () => {
    expect(() => new EmbeddedPostgres({ dataDir, port: 70000 })).toThrow(/port must be an integer from 0 to 65535, received 70000/);
  });
});
