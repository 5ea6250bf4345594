import { PassThrough } from 'node:stream';

/** What a command wrote and returned. */
export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command given in-memory stdout/stderr (as the bin gives it `process`), and returns what it wrote. */
export async function captureCli(command: (io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }) => Promise<number>): Promise<CliOutcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await command({ stdout, stderr });
  return { code, stdout: out, stderr: err };
}
